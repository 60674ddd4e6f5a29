"Each benchmark script runs with --quick on tiny sizes, prints its ratio lines and writes valid json (no timing assertions)."
import json, os, re, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).parents[1]
LINE = re.compile(r'^(\w+): ratio = (\d+\.\d+) \(ours ([\d.e+-]+) s, baseline ([\d.e+-]+) s\)$')
EXPECTED = dict(method_overhead=['saferclip_vs_safeclip', 'albar_vs_vanilla', 'tedspad_vs_spact', 'aam_cached_vs_encoder'],
                nearest_safe=['nearest_safe_ours', 'nearest_safe_ours_chunk1024'],
                clip_eval=['clip_eval_zeroshot', 'clip_eval_retrieval'],
                data_loading=['data_loading_seek', 'data_loading_workers'])
ENV = dict(os.environ, OMP_NUM_THREADS='1', OMP_WAIT_POLICY='PASSIVE')


def run(script, *args):
    p = subprocess.run([sys.executable, str(ROOT / 'benchmarks' / script), *args], capture_output=True, text=True, env=ENV, cwd=ROOT)
    assert p.returncode == 0, p.stderr[-3000:]
    return p.stdout


@pytest.mark.parametrize('name', list(EXPECTED))
def test_quick_run_prints_ratios_and_writes_json(name, tmp_path):
    out = tmp_path / f'{name}.json'
    stdout = run(f'{name}.py', '--quick', '--out', str(out))
    names = [m.group(1) for m in map(LINE.match, stdout.splitlines()) if m]
    assert names == EXPECTED[name], stdout
    res = json.loads(out.read_text())
    assert {'platform', 'cpu_count', 'torch', 'torch_threads'} <= set(res['machine'])
    assert res['machine']['torch_threads'] == 1
    assert res['ratios'] and all(isinstance(v, float) and v > 0 for v in res['ratios'].values())


def test_run_all_quick_collects_every_ratio_line(tmp_path):
    stdout = run('run_all.py', '--quick', '--only', 'kpis', 'nearest_safe', '--out-dir', str(tmp_path))
    names = [m.group(1) for m in map(LINE.match, stdout.splitlines()) if m]
    assert names == ['kpis_group_metrics', *EXPECTED['nearest_safe']], stdout
    assert {p.name for p in tmp_path.iterdir()} == {'kpis.json', 'nearest_safe.json'}
