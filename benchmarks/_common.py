"Shared helpers of the benchmark scripts: machine description, median timing, ratio lines, result files."
import json, os, platform, statistics, time
from pathlib import Path

RESULTS = Path(__file__).parent / 'results'


def machine()->dict:
    "Where a timing was taken: platform, CPUs, torch version and its thread count."
    import torch
    return dict(platform=platform.platform(), python=platform.python_version(), cpu_count=os.cpu_count(),
                torch=torch.__version__, torch_threads=torch.get_num_threads(),
                omp_num_threads=os.environ.get('OMP_NUM_THREADS'),
                load_average_1min=round(os.getloadavg()[0], 2),   # other work on the machine while it was measured
                when=time.strftime('%Y-%m-%d %H:%M'))


def median_time(fn, repeats:int, warmup:int=2)->float:
    "Median wall time of `fn()` in seconds over `repeats` calls, after `warmup` untimed calls."
    for _ in range(warmup): fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter(); fn(); times.append(time.perf_counter() - t0)
    return statistics.median(times)


def paired_median_times(ours, baseline, repeats:int, warmup:int=2)->tuple:
    "Median times of `ours()` and `baseline()`, calls interleaved so that load on a shared machine hits both alike."
    for _ in range(warmup): ours(); baseline()
    t_o, t_b = [], []
    for _ in range(repeats):
        for fn, ts in ((ours, t_o), (baseline, t_b)):
            t0 = time.perf_counter(); fn(); ts.append(time.perf_counter() - t0)
    return statistics.median(t_o), statistics.median(t_b)


def ratio_line(name:str, ours:float, baseline:float)->str:
    "The line every benchmark prints: `name: ratio = X.XX (ours A s, baseline B s)`, ratio = ours / baseline (4 decimals below 0.1)."
    r = ours / baseline
    return f"{name}: ratio = {r:{'.2f' if r >= .1 else '.4f'}} (ours {ours:.4g} s, baseline {baseline:.4g} s)"


def write_result(name:str, res:dict, out:str|None=None)->Path:
    "Write `res` plus the machine description to benchmarks/results/<name>.json (or `out`)."
    path = Path(out) if out else RESULTS / f'{name}.json'
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dict(res, machine=machine()), indent=1, default=float) + '\n')
    return path
