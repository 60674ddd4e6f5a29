"""Untrusted files and inputs: what the library may load, and how it may start other programs."""
import ast, os, subprocess, sys
from pathlib import Path
import pytest, torch

LIB = Path(__file__).resolve().parents[1]/'rai_papers'
MODULES = sorted(p for p in LIB.rglob('*.py') if p.name != '_modidx.py')


def calls(path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call): yield node


def name(call):
    f = call.func
    parts = []
    while isinstance(f, ast.Attribute): parts.append(f.attr); f = f.value
    if isinstance(f, ast.Name): parts.append(f.id)
    return '.'.join(reversed(parts))


def keyword(call, key):
    return next((k.value for k in call.keywords if k.arg == key), None)


@pytest.mark.parametrize('path', MODULES, ids=lambda p: p.name)
def test_checkpoints_are_loaded_without_pickle(path):
    for c in calls(path):
        n = name(c)
        if n == 'torch.load':
            v = keyword(c, 'weights_only')
            assert isinstance(v, ast.Constant) and v.value is True, f'{path.name}:{c.lineno} torch.load without weights_only=True'
        if n in ('np.load', 'numpy.load'):
            v = keyword(c, 'allow_pickle')
            assert v is None or (isinstance(v, ast.Constant) and v.value is False), f'{path.name}:{c.lineno} np.load with allow_pickle'
        assert not n.startswith(('pickle.', 'cPickle.', 'dill.', 'joblib.load')), f'{path.name}:{c.lineno} {n}'
        assert n not in ('pd.read_pickle', 'pandas.read_pickle'), f'{path.name}:{c.lineno} {n}'


@pytest.mark.parametrize('path', MODULES, ids=lambda p: p.name)
def test_no_shell_is_ever_started(path):
    for c in calls(path):
        n = name(c)
        assert n not in ('os.system', 'os.popen', 'subprocess.getoutput', 'subprocess.getstatusoutput'), f'{path.name}:{c.lineno} {n}'
        shell = keyword(c, 'shell')
        assert shell is None or (isinstance(shell, ast.Constant) and shell.value is False), f'{path.name}:{c.lineno} shell=True'


def test_a_pickled_payload_in_a_checkpoint_is_refused(tmp_path):
    "A checkpoint carrying arbitrary objects cannot run code on load."
    from rai_papers.train import load_checkpoint
    ck = tmp_path/'step-00000001'; ck.mkdir()
    torch.save({'modules': {}, 'optimizers': {}, 'schedulers': {}, 'rng': {'torch': torch.get_rng_state()},
                'payload': Exploit()}, ck/'state.pt')
    (ck/'meta.json').write_text('{"step": 1, "rng": {}, "history": []}')
    with pytest.raises(Exception, match='Weights only load failed|Unsupported global'):
        load_checkpoint(ck, {}, {}, {})
    assert not (tmp_path/'pwned').exists()


class Exploit:
    def __reduce__(self): return (os.system, (f'touch {Path(__file__).parent}/pwned',))


def test_cli_arguments_never_reach_a_shell(tmp_path):
    "A parameter value full of shell syntax is data: it is type-checked, never executed."
    cli = Path(sys.executable).with_name('rai-papers')
    if not cli.exists(): pytest.skip('rai-papers is not installed')
    marker = tmp_path/'pwned'
    r = subprocess.run([cli, 'reproduce', 'hello', '--out', tmp_path, '-p', f'max_train=$(touch {marker})', '--no-report'],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "'max_train' must be a whole number" in r.stderr
    r = subprocess.run([cli, 'reproduce', f'hello; touch {marker}', '--out', tmp_path], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and 'no experiment' in r.stderr
    assert not marker.exists()
