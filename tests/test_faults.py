"""Faults from outside the code: a full disk under outputs/, and Hugging Face offline mode with no network."""
import json, os, subprocess, sys
from pathlib import Path
import nbformat, pytest
from rai_papers.cli import reproduce_one, _point_latest, ExperimentFailed
from rai_papers.results import ExperimentRun

ROOT = Path(__file__).resolve().parents[1]


def _earlier_run(exp_dir):
    "A finished run and `latest` pointing at it, as a previous `reproduce` leaves them; returns its files' bytes."
    run = ExperimentRun('tiny', 'smoke', 0, exp_dir/'r1')
    run.log('main', 'm', 'synth', 'accuracy', 50.0)
    run.finish()
    _point_latest(exp_dir, 'r1')
    return {p.name: p.read_bytes() for p in (exp_dir/'r1').iterdir()}


def _assert_untouched(exp_dir, before):
    assert os.readlink(exp_dir/'latest') == 'r1'
    assert {p.name: p.read_bytes() for p in (exp_dir/'r1').iterdir()} == before
    assert not [p for p in exp_dir.iterdir() if p.name not in ('r1', 'latest') and not p.name.endswith(('.failed', '.partial'))]


def _says_disk_full(msg, where):
    assert 'No space left on device' in msg, msg
    assert str(where) in msg, msg                       # the folder that is full
    assert 'free space' in msg and '--out' in msg, msg  # and the two ways out


@pytest.fixture
def tiny_fs(tmp_path):
    "A 1 MiB tmpfs (needs mount rights: root or CAP_SYS_ADMIN; skipped elsewhere)."
    mnt = tmp_path/'fs'; mnt.mkdir()
    p = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', str(mnt)], capture_output=True, text=True)
    if p.returncode: pytest.skip(f'cannot mount a small tmpfs here ({p.stderr.strip() or p.returncode})')
    try: yield mnt
    finally: subprocess.run(['umount', str(mnt)], check=True)


def test_full_disk_stops_before_the_run_and_keeps_earlier_runs(tiny_fs):
    "On a really full filesystem the run refuses to start, says where and what to do, and the earlier run is intact."
    exp_dir = tiny_fs/'hello'
    before = _earlier_run(exp_dir)
    fd = os.open(tiny_fs/'filler', os.O_WRONLY | os.O_CREAT)   # unbuffered: the write that fails is the last one
    try:
        while True: os.write(fd, b'\0' * 4096)
    except OSError: pass                                          # the filesystem is full now
    finally: os.close(fd)
    with pytest.raises(OSError) as e: reproduce_one('hello', out=tiny_fs, params={'max_train': 300})
    _says_disk_full(str(e.value), exp_dir)
    _assert_untouched(exp_dir, before)


FULL_DURING_RUN = """\
import os
from pathlib import Path
from rai_papers.results import ExperimentRun
run = ExperimentRun('diskfull', scale, seed, output_dir)
os.symlink('/dev/full', Path(output_dir)/'records.partial.jsonl')   # every write here fails with ENOSPC, as on a full disk
run.log('main', 'm', 'synth', 'accuracy', 1.0)
run.finish()
"""


def test_disk_full_inside_the_experiment_names_the_folder_and_the_fix(tmp_path):
    "A write that hits ENOSPC in the kernel (a real ENOSPC from /dev/full) fails the run with the fix, keeping the earlier run."
    folder = tmp_path/'nbs'; folder.mkdir()
    params = nbformat.v4.new_code_cell("scale: str = 'smoke'\nseed: int = 0\noutput_dir: str = ''")
    params.metadata['tags'] = ['parameters']
    nb = nbformat.v4.new_notebook(cells=[params, nbformat.v4.new_code_cell(FULL_DURING_RUN)])
    nb.metadata['kernelspec'] = {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}
    nbformat.write(nb, folder/'diskfull.ipynb')
    exp_dir = tmp_path/'out'/'diskfull'
    before = _earlier_run(exp_dir)
    with pytest.raises(ExperimentFailed) as e: reproduce_one('diskfull', out=tmp_path/'out', folder=folder)
    _says_disk_full(str(e.value), exp_dir)
    _assert_untouched(exp_dir, before)
    assert len(list(exp_dir.glob('*.failed'))) == 1     # what the failed run wrote is kept apart, under a name that says so


# Each paper-scale loader that could reach the Hub, with weights or data that are not on this machine.
OFFLINE_CASES = {
    'implicitqa annotations from the Hub': ("from rai_papers.implicitqa import load_implicitqa, HUB_ID; load_implicitqa(HUB_ID)",
                                             'pass its path'),
    'caption rows from the Hub': ("from rai_papers.safer_clip_data import read_rows; read_rows('Adeely93/NSFWCaps')",
                                  'pass that local file'),
    'paper CLIP weights': ("from rai_papers.safer_clip_data import create_paper_clip; create_paper_clip('/nonexistent/vit-l-14.pt')",
                           'save its state_dict'),
    'open_clip weights for the baselines': ("from rai_papers.implicitqa_baselines import load_clip; load_clip('ViT-B-32', '/nonexistent/clip.pt')",
                                            'pass the downloaded file'),
    'VideoMAE directory': ("from rai_papers.backbones import create_videomae; create_videomae(model_dir='/nonexistent/videomae')",
                           'Get it from'),
}

GUARD = """\
import json, socket, sys, traceback
tried = []
def refuse(name):
    def f(*a, **k):
        tried.append(f'{name}{a[1:2] or a[:1]}')
        raise OSError('network access attempted in an offline test')
    return f
socket.socket.connect = refuse('connect'); socket.socket.connect_ex = refuse('connect_ex')
socket.create_connection = refuse('create_connection'); socket.getaddrinfo = refuse('getaddrinfo')
out = {}
for name, code in json.loads(sys.argv[1]).items():
    try: exec(code, {}); out[name] = dict(error=None)
    except BaseException as e: out[name] = dict(error=type(e).__name__, message=str(e))
    out[name]['network'] = list(tried); tried.clear()
print('RESULTS' + json.dumps(out))
"""


@pytest.fixture(scope='module')
def offline_results(tmp_path_factory):
    "Every loader of `OFFLINE_CASES` in one process (one import of torch) with HF_HUB_OFFLINE=1 and sockets refused."
    home = tmp_path_factory.mktemp('hf_home')   # an empty cache: nothing to fall back on
    env = {k: v for k, v in os.environ.items() if not k.startswith(('HF_', 'TRANSFORMERS_'))}
    env.update(HF_HUB_OFFLINE='1', HF_HOME=str(home), OMP_NUM_THREADS='1', PYTHONPATH=str(ROOT))
    p = subprocess.run([sys.executable, '-c', GUARD, json.dumps({k: c for k, (c, _) in OFFLINE_CASES.items()})],
                       env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    line = [l for l in p.stdout.splitlines() if l.startswith('RESULTS')]
    assert p.returncode == 0 and line, p.stderr[-3000:]
    return json.loads(line[0][len('RESULTS'):])


@pytest.mark.parametrize('case', list(OFFLINE_CASES))
def test_offline_loader_fails_fast_without_touching_the_network(case, offline_results):
    r, hint = offline_results[case], OFFLINE_CASES[case][1]
    assert r['network'] == [], f"{case} tried the network with HF_HUB_OFFLINE=1: {r['network']}"
    assert r['error'], f'{case} succeeded offline with no local files'
    assert hint in r['message'], r['message']            # and says how to provide the files locally


def test_disk_full_while_checkpointing_keeps_the_last_checkpoint_and_resumes(tmp_path, monkeypatch):
    "ENOSPC in the middle of writing a checkpoint loses nothing before it: the rerun resumes from the previous one."
    import errno, torch, torch.nn as nn, torch.nn.functional as F
    import rai_papers.train as loop
    g = torch.Generator().manual_seed(0)
    x = torch.randn(32, 4, generator=g); y = x.sum(1, keepdim=True)
    data = [dict(x=a, y=b) for a, b in zip(x, y)]
    def fit(ckpt):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.2), nn.Linear(8, 1))
        step = lambda b, ctx: dict(loss=F.mse_loss(ctx.modules['m'](b['x']), b['y']))
        cfg = loop.TrainConfig(max_steps=6, batch_size=4, progress=False, device='cpu', ckpt_dir=str(ckpt), ckpt_every=2)
        return loop.train(step, {'m': model}, {'m': torch.optim.Adam(model.parameters(), lr=0.01)}, data, cfg), model
    _, straight = fit(tmp_path/'straight')
    saves, save = [], torch.save
    def full_on_second(obj, f, *a, **k):
        saves.append(f)
        if len(saves) == 2: raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(f))
        return save(obj, f, *a, **k)
    monkeypatch.setattr(loop.torch, 'save', full_on_second)
    with pytest.raises(OSError, match='No space left on device'): fit(tmp_path/'run')
    monkeypatch.undo()
    assert loop.latest_checkpoint(tmp_path/'run').name == 'step-00000002'   # the torn step-4 write is not taken for a checkpoint
    res, resumed = fit(tmp_path/'run')
    assert res.resumed_from == 2
    for (k, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()): assert torch.equal(a, b), k
