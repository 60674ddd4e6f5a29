"""Faults around `rai-papers reproduce`: interrupted batches, concurrent runs, dead kernels, unwritable outputs."""
import json, os, signal, subprocess, sys, time
from pathlib import Path
import nbformat, pytest

ROOT = Path(__file__).resolve().parents[1]
CLI = Path(sys.executable).with_name('rai-papers')
pytestmark = pytest.mark.skipif(not CLI.exists(), reason='rai-papers is not installed (make install)')


def notebook(path, body, params="scale: str = 'smoke'\nseed: int = 0\noutput_dir: str = ''"):
    nb = nbformat.v4.new_notebook(metadata={'kernelspec': {'name': 'python3', 'display_name': 'python3', 'language': 'python'}})
    p = nbformat.v4.new_code_cell(params); p.metadata['tags'] = ['parameters']
    nb.cells = [nbformat.v4.new_raw_cell(f'---\ntitle: {path.stem}\npaper: test\nregenerates: nothing\nsmoke_minutes: 0.1\n---'), p,
                nbformat.v4.new_code_cell(body)]
    nbformat.write(nb, path)


FINISH = ("from rai_papers.results import ExperimentRun\n"
          "run = ExperimentRun('{name}', scale, seed, output_dir); run.log('main', 'm', 'd', 'acc', 1.0 + seed)\n")


@pytest.fixture
def project(tmp_path):
    "A clean git checkout (so runs have a commit) with its own experiments folder."
    root = tmp_path/'proj'; (root/'exps').mkdir(parents=True)
    (root/'pyproject.toml').write_text('[project]\nname = "rai_papers"\n')
    notebook(root/'exps'/'first.ipynb', FINISH.format(name='first') + 'run.finish()')
    notebook(root/'exps'/'second.ipynb', FINISH.format(name='second') + "import time\ntime.sleep(float(__import__('os').environ.get('SLOW', '0')))\nrun.finish()")
    git = lambda *a: subprocess.run(['git', '-C', root, *a], check=True, capture_output=True)
    git('init', '-q'); git('-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-qm', 'x', '--allow-empty')
    git('add', '-A'); git('-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-qm', 'experiments')
    env = {**os.environ, 'RAI_PAPERS_EXPERIMENTS': str(root/'exps'), 'PYTHONPATH': str(ROOT), 'OMP_NUM_THREADS': '1'}
    return root, env


def cli(args, env, cwd, **kw):
    return subprocess.run([CLI, *map(str, args)], env=env, cwd=cwd, capture_output=True, text=True, timeout=300, **kw)


def descendants(pid:int)->list:
    "Every live process below `pid`, from /proc."
    parent = {}
    for d in Path('/proc').iterdir():
        try: parent[int(d.name)] = int((d/'stat').read_text().rsplit(')', 1)[1].split()[1])
        except (ValueError, OSError, IndexError): pass
    out, todo = [], [pid]
    while todo:
        pid = todo.pop()
        kids = [c for c, p in parent.items() if p == pid]
        out += kids; todo += kids
    return out


def alive(pid:int)->bool:
    "A process that exists and is not a zombie."
    try: return (Path('/proc')/str(pid)/'stat').read_text().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError: return False


def test_interrupted_batch_resumes_only_the_unfinished_experiment(project):
    root, env = project
    out = root/'outputs'
    proc = subprocess.Popen([CLI, 'reproduce', 'first', 'second', '--out', out, '--jobs', '2'], env={**env, 'SLOW': '60'}, cwd=root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not ((out/'first'/'latest').exists() and list((out/'second').glob('*.partial/second.ipynb'))) and time.time() < deadline:
        time.sleep(0.5)
    time.sleep(3)
    workers = descendants(proc.pid)
    assert workers, 'the batch should run its experiments in worker processes'
    os.kill(proc.pid, signal.SIGKILL); proc.wait()                                   # the batch dies inside `second`
    deadline = time.time() + 30
    while any(alive(p) for p in workers) and time.time() < deadline: time.sleep(0.5)
    assert not any(alive(p) for p in workers), 'workers and kernels must die with the batch, not finish runs behind its back'
    first = (out/'first'/'latest').resolve()
    assert not (out/'second'/'latest').exists()
    again = cli(['reproduce', 'first', 'second', '--out', out, '--resume'], env, root)
    assert again.returncode == 0, again.stderr
    assert 'up to date, skipped' in again.stdout
    assert (out/'first'/'latest').resolve() == first                                 # not rerun
    assert json.loads(((out/'second'/'latest')/'metrics.json').read_text())['records'][0]['value'] == 1.0
    changed = cli(['reproduce', 'first', '--out', out, '--resume', '--seed', '1'], env, root)   # another request reruns
    assert changed.returncode == 0 and (out/'first'/'latest').resolve() != first


def test_concurrent_runs_of_one_experiment_do_not_clash(project):
    root, env = project
    out = root/'outputs'
    procs = [subprocess.Popen([CLI, 'reproduce', 'first', '--out', out, '--no-report'], env=env, cwd=root,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    runs = [d for d in (out/'first').iterdir() if d.is_dir() and not d.is_symlink()]
    assert len(runs) == 2
    assert all(json.loads((d/'metrics.json').read_text())['records'][0]['value'] == 1.0 for d in runs)
    assert (out/'first'/'latest').resolve() in runs


def test_a_batch_runs_side_by_side_and_reports_each_experiment(project):
    root, env = project
    r = cli(['reproduce', 'second', 'first', '--out', root/'outputs', '--jobs', '2', '--no-report'], env, root)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    at = lambda text: next(i for i, l in enumerate(lines) if text in l)
    assert max(at('first: started'), at('second: started')) < min(at('first: done'), at('second: done'))   # both ran at once
    assert '2 at a time' in lines[0]


def test_dead_kernel_keeps_partial_records(project):
    root, env = project
    notebook(root/'exps'/'crash.ipynb', FINISH.format(name='crash') + "import os; os._exit(3)")
    r = cli(['reproduce', 'crash', '--out', root/'outputs'], env, root)
    assert r.returncode == 1 and "experiment 'crash' stopped" in r.stderr
    failed, = (root/'outputs'/'crash').glob('*.failed')
    assert json.loads((failed/'records.partial.jsonl').read_text())['metric'] == 'acc'
    assert (failed/'crash.ipynb').exists() and (failed/'request.json').exists()


def test_unwritable_output_folder_is_a_clear_error(project):
    root, env = project
    (root/'a_file').write_text('not a folder')
    r = cli(['reproduce', 'first', '--out', root/'a_file'/'outputs'], env, root)
    assert r.returncode == 1 and 'cannot write to the output folder' in r.stderr and 'choose another with --out' in r.stderr


def test_wrong_parameter_type_names_the_parameter(project):
    root, env = project
    r = cli(['reproduce', 'first', '--out', root/'o', '-p', 'seed=1.5'], env, root)
    assert r.returncode == 1 and "parameter 'seed' must be a whole number" in r.stderr
