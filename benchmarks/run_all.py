"""Run every benchmark (the `make bench` equivalent) and print all their ratio lines.

Each script runs in its own process with OMP_NUM_THREADS=1 and writes benchmarks/results/<name>.json
(with --quick: tiny sizes, and the results go to a temporary folder so the committed ones stay).
Ratios are ours / baseline: below 1 is faster than the baseline.

    python benchmarks/run_all.py [--quick] [--only nearest_safe clip_eval]
"""
import argparse, json, os, subprocess, sys, tempfile, time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import ratio_line

HERE = Path(__file__).parent
SCRIPTS = ('kpis', 'method_overhead', 'nearest_safe', 'clip_eval', 'data_loading')
QUICK_ARGS = dict(kpis=['--rows', '3000', '--repeats', '1'])


def kpis_line(path:Path)->str:
    "kpis.py reports a speed-up; state it as the same ours / baseline ratio line as the others."
    r = json.loads(path.read_text())
    return ratio_line('kpis_group_metrics', r['ours_s'], r['fairlearn_s'])


def run(name:str, out:Path, quick:bool)->list:
    "Run one script; return its ratio lines."
    cmd = [sys.executable, str(HERE / f'{name}.py'), '--out', str(out / f'{name}.json')]
    if quick: cmd += QUICK_ARGS.get(name, ['--quick'])
    env = dict(os.environ, OMP_NUM_THREADS='1', OMP_WAIT_POLICY='PASSIVE', PYTHONWARNINGS='ignore')
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if p.returncode: raise SystemExit(f"{name} failed (exit {p.returncode}):\n{p.stdout[-2000:]}\n{p.stderr[-4000:]}")
    lines = [l for l in p.stdout.splitlines() if ': ratio = ' in l]
    if name == 'kpis': lines.append(kpis_line(out / f'{name}.json'))
    print(f"# {name} ({time.perf_counter() - t0:.0f} s)", flush=True)
    for l in lines: print(l, flush=True)
    return lines


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--quick', action='store_true', help='tiny sizes; results in a temporary folder')
    p.add_argument('--only', nargs='*', choices=SCRIPTS, default=list(SCRIPTS))
    p.add_argument('--out-dir', default=None, help='where the json files go (default benchmarks/results, or a temporary folder with --quick)')
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.out_dir or (tmp if args.quick else HERE / 'results'))
        out.mkdir(parents=True, exist_ok=True)
        return {name: run(name, out, args.quick) for name in args.only}


if __name__ == '__main__':
    main()
