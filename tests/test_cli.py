"""The `rai-papers` command end to end: reproduce, determinism, failures, bad parameters, report."""
import json, os, subprocess, sys
from pathlib import Path
import nbformat, pytest
from rai_papers.cli import main, reproduce_one, list_experiments, ExperimentFailed

ROOT = Path(__file__).resolve().parents[1]
CLI = Path(sys.executable).with_name('rai-papers')


def records(run_dir):
    return json.loads((Path(run_dir)/'metrics.json').read_text())['records']


def test_list_names_every_experiment_notebook():
    names = list_experiments().name.tolist()
    assert sorted(names) == sorted(p.stem for p in (ROOT/'nbs'/'experiments').glob('*.ipynb'))
    assert 'hello' in names and names[-1] == 'rai_kpis'       # the scorecard runs after every other experiment


def test_hello_twice_same_seed_gives_identical_records(tmp_path):
    first = reproduce_one('hello', seed=0, out=tmp_path, params={'max_train': 300})
    second = reproduce_one('hello', seed=0, out=tmp_path, params={'max_train': 300})
    assert first != second and first.exists()                  # two runs, the first kept
    assert records(first) == records(second)
    assert (tmp_path/'hello'/'latest').resolve() == second
    for f in ('hello.ipynb', 'metrics.json', 'provenance.json', 'tables/main.csv', 'tables/main.md',
              'tables/main.tex', 'figures/accuracy.png', 'figures/accuracy.svg'):
        assert (second/f).exists(), f
    prov = json.loads((second/'provenance.json').read_text())
    assert prov['params']['max_train'] == 300 and prov['seed'] == 0 and prov['packages']['torch']
    assert prov['data']['digits']
    m = json.loads((second/'metrics.json').read_text())
    assert {r['method'] for r in m['records']} == {'SVC', 'LogisticRegression', 'MLP'}
    assert all(set(r) >= {'table', 'method', 'dataset', 'metric', 'value'} for r in m['records'])


def test_unknown_or_mistyped_parameter_is_an_error(tmp_path):
    with pytest.raises(ValueError, match='unknown parameter'): reproduce_one('hello', out=tmp_path, params={'max_trian': '3'})
    with pytest.raises(ValueError, match="'max_train' must be a whole number"): reproduce_one('hello', out=tmp_path, params={'max_train': 'many'})
    assert not (tmp_path/'hello').exists() or not any((tmp_path/'hello').iterdir())


def make_notebook(path, body):
    nb = nbformat.v4.new_notebook(metadata={'kernelspec': {'name': 'python3', 'display_name': 'python3', 'language': 'python'}})
    params = nbformat.v4.new_code_cell("scale: str = 'smoke'\nseed: int = 0\noutput_dir: str = ''\nfail: bool = False")
    params.metadata['tags'] = ['parameters']
    nb.cells = [nbformat.v4.new_raw_cell('---\ntitle: flaky\npaper: test\nregenerates: nothing\nsmoke_minutes: 0.1\n---'),
                params, nbformat.v4.new_code_cell('x = 1'), nbformat.v4.new_code_cell(body)]
    nbformat.write(nb, path)


def test_failing_experiment_exits_nonzero_names_the_cell_and_keeps_earlier_runs(tmp_path, monkeypatch, capsys):
    exps = tmp_path/'exps'; exps.mkdir()
    make_notebook(exps/'flaky.ipynb', "from rai_papers.results import ExperimentRun\n"
                  "if fail: raise RuntimeError('boom on purpose')\n"
                  "run = ExperimentRun('flaky', scale, seed, output_dir); run.log('main', 'm', 'd', 'acc', 1.0); run.finish()")
    monkeypatch.setenv('RAI_PAPERS_EXPERIMENTS', str(exps))
    out = tmp_path/'out'
    assert main(['reproduce', 'flaky', '--out', str(out)]) == 0
    good = (out/'flaky'/'latest').resolve()
    before = {p: p.read_bytes() for p in good.rglob('*') if p.is_file()}
    assert main(['reproduce', 'flaky', '--out', str(out), '-p', 'fail=true']) == 1
    err = capsys.readouterr().err
    assert 'failed in cell 4' in err and 'starting `from rai_papers.results import' in err and 'RuntimeError: boom on purpose' in err
    assert (out/'flaky'/'latest').resolve() == good
    assert {p: p.read_bytes() for p in good.rglob('*') if p.is_file()} == before
    failed = list((out/'flaky').glob('*.failed'))
    assert len(failed) == 1 and (failed[0]/'flaky.ipynb').exists()


def test_notebook_without_finish_is_a_failure(tmp_path, monkeypatch):
    exps = tmp_path/'exps'; exps.mkdir()
    make_notebook(exps/'silent.ipynb', 'y = 2')
    monkeypatch.setenv('RAI_PAPERS_EXPERIMENTS', str(exps))
    with pytest.raises(ExperimentFailed, match='without writing metrics.json'): reproduce_one('silent', out=tmp_path/'o')


def test_command_line_reproduce_and_report(tmp_path):
    if not CLI.exists(): pytest.skip('rai-papers is not installed (make install)')
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    r = subprocess.run([CLI, 'reproduce', 'hello', '--seed', '1', '--out', tmp_path, '-p', 'max_train=200'],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    report = (tmp_path/'report.md').read_text()
    assert '## hello' in report and 'paper-reported' in report and 'smoke scale' in report
    assert '(hello/' in report and (tmp_path/'report.html').exists()
    bad = subprocess.run([CLI, 'reproduce', 'no_such_experiment', '--out', tmp_path], capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode == 1 and "no experiment 'no_such_experiment'" in bad.stderr
    assert subprocess.run([CLI, 'report', '--out', tmp_path/'empty'], capture_output=True, text=True, env=env).returncode == 1
