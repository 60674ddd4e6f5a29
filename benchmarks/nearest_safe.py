"""Nearest-safe target search: rai_papers.safer_clip.nearest_safe_targets (chunked) against a naive full-matrix search.

A pool of N safe caption embeddings and M unsafe query embeddings (random unit vectors standing in for
the frozen text encoder's output, which `nearest_safe_targets` receives through its `text_encoder`
argument). Each search runs in its own subprocess so that its peak resident memory above the data
can be read (ru_maxrss). The indices must be identical; ours is run again with twice the
queries to show that its peak memory does not grow with them (the naive matrix would double); the time ratio and the peak memory are
written to benchmarks/results/nearest_safe.json.

    OMP_NUM_THREADS=1 python benchmarks/nearest_safe.py [--quick] [--pool 100000] [--queries 8000]
"""
import argparse, resource, subprocess, sys, tempfile
from pathlib import Path
import torch, torch.nn.functional as F
sys.path.insert(0, str(Path(__file__).parent))
from _common import ratio_line, write_result

KINDS = ('ours', 'ours_chunk1024', 'naive')


def embeddings(pool:int, queries:int, dim:int, seed:int=0)->torch.Tensor:
    "One table: rows [0, pool) are the safe pool, the rest the unsafe queries (not normalised)."
    return torch.randn(pool + queries, dim, generator=torch.Generator().manual_seed(seed))


def naive(table:torch.Tensor, pool:int)->tuple:
    "The whole (M, N) similarity matrix at once."
    z = F.normalize(table, dim=-1)
    p, j = (z[pool:] @ z[:pool].T).max(dim=1)
    return j, p


def ours(table:torch.Tensor, pool:int, chunk:int|None=None)->tuple:
    from rai_papers.safer_clip import nearest_safe_targets
    ids = list(range(len(table)))
    kw = {} if chunk is None else dict(chunk=chunk)
    return nearest_safe_targets(lambda xs: table[torch.as_tensor(xs)], ids[pool:], ids[:pool], **kw)


def peak_rss_mb()->float: return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # Linux: KiB


def worker(kind:str, args)->None:
    "Run one search `args.repeats` times in this process; save indices, median time and peak memory above the data."
    import statistics, time
    torch.set_num_threads(1)
    if kind != 'naive': import rai_papers.safer_clip  # noqa: F401  (import outside the memory reading)
    table = embeddings(args.pool, args.queries, args.dim)
    before = peak_rss_mb()
    fn = {'ours': lambda: ours(table, args.pool), 'ours_chunk1024': lambda: ours(table, args.pool, 1024),
          'naive': lambda: naive(table, args.pool)}[kind]
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter(); j, p = fn(); times.append(time.perf_counter() - t0)
    torch.save(dict(j=j, p=p, seconds=statistics.median(times), peak_extra_mb=peak_rss_mb() - before),
               Path(args.tmp) / f'{kind}-{args.queries}.pt')


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--quick', action='store_true', help='tiny sizes (tests)')
    p.add_argument('--pool', type=int, default=100_000)
    p.add_argument('--queries', type=int, default=8_000)
    p.add_argument('--dim', type=int, default=64)
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--out', default=None)
    p.add_argument('--worker', choices=KINDS, help=argparse.SUPPRESS)
    p.add_argument('--tmp', help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick: args.pool, args.queries, args.repeats = 3000, 500, 1
    if args.worker: return worker(args.worker, args)
    with tempfile.TemporaryDirectory() as tmp:
        def search(kind, queries, repeats):
            subprocess.run([sys.executable, __file__, '--worker', kind, '--tmp', tmp, '--pool', str(args.pool), '--queries', str(queries),
                            '--dim', str(args.dim), '--repeats', str(repeats)], check=True)
            return torch.load(Path(tmp) / f'{kind}-{queries}.pt', weights_only=True)
        r = {k: search(k, args.queries, args.repeats) for k in KINDS}
        # twice the queries, ours only (the naive matrix would double): the peak should not grow
        r2 = {k: search(k, 2 * args.queries, 1) for k in KINDS[:-1]}
    if not torch.equal(r2['ours']['j'], r2['ours_chunk1024']['j']):
        raise SystemExit("with twice the queries the two chunk sizes give different indices: the benchmark is invalid")
    for k in KINDS[:-1]:
        if not torch.equal(r[k]['j'], r['naive']['j']):
            raise SystemExit(f"{k}: {(r[k]['j'] != r['naive']['j']).sum()} of {args.queries} indices differ from the naive search: the benchmark is invalid")
    full_mb = args.queries * args.pool * 4 / 2**20
    res = dict(sizes=dict(pool=args.pool, queries=args.queries, dim=args.dim), repeats=args.repeats, statistic='median',
               identical_indices=True, max_abs_proximity_diff=float((r['ours']['p'] - r['naive']['p']).abs().max()),
               full_matrix_mb=full_mb, chunk_default=4096,
               runs={k: dict(seconds=r[k]['seconds'], peak_extra_mb=r[k]['peak_extra_mb']) for k in KINDS},
               twice_the_queries=dict(queries=2 * args.queries, full_matrix_mb=2 * full_mb,
                                      runs={k: dict(seconds=v['seconds'], peak_extra_mb=v['peak_extra_mb']) for k, v in r2.items()}))
    res['ratios'] = {f'{k}_vs_naive_time': r[k]['seconds'] / r['naive']['seconds'] for k in KINDS[:-1]}
    res['ratios'].update({f'{k}_vs_naive_peak_memory': r[k]['peak_extra_mb'] / max(r['naive']['peak_extra_mb'], 1e-9) for k in KINDS[:-1]})
    res['ratios'].update({f'{k}_peak_memory_2x_vs_1x_queries': r2[k]['peak_extra_mb'] / max(r[k]['peak_extra_mb'], 1e-9) for k in KINDS[:-1]})
    for k in KINDS[:-1]:
        print(ratio_line(f'nearest_safe_{k}', r[k]['seconds'], r['naive']['seconds']))
        print(f"nearest_safe_{k}_peak_memory: ratio = {res['ratios'][f'{k}_vs_naive_peak_memory']:.2f} "
              f"(ours {r[k]['peak_extra_mb']:.0f} MB, baseline {r['naive']['peak_extra_mb']:.0f} MB; full matrix {full_mb:.0f} MB)")
        print(f"nearest_safe_{k}_peak_memory_2x_queries: ratio = {res['ratios'][f'{k}_peak_memory_2x_vs_1x_queries']:.2f} "
              f"(ours {r2[k]['peak_extra_mb']:.0f} MB at {2 * args.queries:,} queries vs {r[k]['peak_extra_mb']:.0f} MB at {args.queries:,})")
    print(f"{args.queries:,} queries x {args.pool:,} pool (d={args.dim}): indices identical; written {write_result('nearest_safe', res, args.out)}")
    return res


if __name__ == '__main__':
    main()
