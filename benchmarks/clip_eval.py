"""CLIP evaluation: rai_papers.clip_eval against CLIP_benchmark on the same tiny open_clip model and data.

The model is the tiny SynthCaps CLIP, pretrained (`create_tiny_clip`, cached after its first
training) unless --random-init or --quick.

Zero-shot top-1 on the five SynthCaps zero-shot sets (`zeroshot_eval` vs
`clip_benchmark.metrics.zeroshot_classification.evaluate`) and text<->image recall@{1,5,10} on
SynthCaps image-caption pairs (`encode_*` + `recall_at_k` vs
`clip_benchmark.metrics.zeroshot_retrieval.evaluate`). The script stops if any metric differs.
CLIP_benchmark 1.6.2's `accuracy` fails under numpy 2 (shared/papers/offline_assets.md §1.9); it is
replaced by the same top-k count with `.item()`, as in tests/test_clip_eval.py.

    OMP_NUM_THREADS=1 python benchmarks/clip_eval.py [--quick] [--zeroshot 1000] [--pairs 2000]
"""
import argparse, sys
from pathlib import Path
import torch
sys.path.insert(0, str(Path(__file__).parent))
from _common import paired_median_times, ratio_line, write_result

KS = (1, 5, 10)


def _topk_accuracy(output, target, topk=(1,)):
    "CLIP_benchmark's `accuracy` with `.item()` (its `float()` on a 1-element array fails under numpy 2)."
    pred = output.topk(max(topk), 1, True, True)[1].t()
    correct = pred.eq(target.view(1, -1).expand_as(pred))
    return [correct[:k].reshape(-1).float().sum().item() / len(target) for k in topk]


def unique_pairs(n:int, seed:int=0)->tuple:
    "SynthCaps image-caption pairs with each caption once: duplicate captions would make ranking ties, which the two libraries break differently."
    from rai_papers.synth_caps import pretrain_corpus, to_tensor
    c = pretrain_corpus(n, seed=seed)
    first = {cap: i for i, cap in reversed(list(enumerate(c['captions'])))}
    keep = sorted(first.values())
    return to_tensor(c['images'][keep]), [c['captions'][i] for i in keep]


def ours_zeroshot(model, tok, sets):
    from rai_papers.clip_eval import zeroshot_eval
    out = zeroshot_eval(model, tok, sets)
    return {k[len('zeroshot_top1_'):]: v for k, v in out.items() if k != 'zeroshot_top1_avg'}


def theirs_zeroshot(model, tok, sets, batch_size):
    from clip_benchmark.metrics import zeroshot_classification as zsc
    out = {}
    for name, s in sets.items():
        ds = torch.utils.data.TensorDataset(s['images'], torch.as_tensor(s['labels']))
        ds.classes = s['classnames']   # CLIP_benchmark reads the class list from the dataset
        r = zsc.evaluate(model, torch.utils.data.DataLoader(ds, batch_size=batch_size), tok, s['classnames'], s['templates'],
                         device='cpu', amp=False)
        out[name] = 100 * r['acc1']
    return out


def ours_retrieval(model, tok, images, captions):
    from rai_papers.clip_eval import encode_images, encode_texts, recall_at_k
    v, t = encode_images(model, images), encode_texts(model, tok, captions)
    gold = torch.eye(len(v), dtype=torch.bool)
    return {**{f't2i_r{k}': recall_at_k(t @ v.T, gold, k) for k in KS}, **{f'i2t_r{k}': recall_at_k(v @ t.T, gold, k) for k in KS}}


def theirs_retrieval(model, tok, images, captions, batch_size):
    from clip_benchmark.metrics import zeroshot_retrieval as zr
    items = [(images[i], [captions[i]]) for i in range(len(captions))]
    dl = torch.utils.data.DataLoader(items, batch_size=batch_size, collate_fn=lambda b: (torch.stack([x for x, _ in b]), [c for _, c in b]))
    r = zr.evaluate(model, dl, tok, 'cpu', amp=False, recall_k_list=list(KS))
    return {**{f't2i_r{k}': 100 * r[f'image_retrieval_recall@{k}'] for k in KS}, **{f'i2t_r{k}': 100 * r[f'text_retrieval_recall@{k}'] for k in KS}}


def check_same(ours:dict, theirs:dict, n:int, what:str)->float:
    "Both libraries must count the same number of hits for every metric (values are percent of `n`); returns the max |difference|."
    for k in ours:
        if round(ours[k] * n / 100) != round(theirs[k] * n / 100) or abs(ours[k] - theirs[k]) > 1e-4:
            raise SystemExit(f"{what} {k}: rai_papers {ours[k]} vs CLIP_benchmark {theirs[k]}: the benchmark is invalid")
    return max(abs(ours[k] - theirs[k]) for k in ours)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--quick', action='store_true', help='tiny sizes (tests)')
    p.add_argument('--zeroshot', type=int, default=1000, help='images per zero-shot set')
    p.add_argument('--pairs', type=int, default=2000, help='image-caption pairs drawn for retrieval (duplicate captions dropped)')
    p.add_argument('--batch-size', type=int, default=256)
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--random-init', action='store_true', help='a randomly initialised tiny CLIP instead of the pretrained one')
    p.add_argument('--out', default=None)
    args = p.parse_args(argv)
    if args.quick: args.zeroshot, args.pairs, args.repeats, args.random_init = 40, 60, 1, True
    torch.set_num_threads(1)
    import clip_benchmark.metrics.zeroshot_classification as zsc
    zsc.accuracy = _topk_accuracy
    from rai_papers.synth_caps import create_tiny_clip, zeroshot_sets, to_tensor
    torch.manual_seed(0)
    model, _, tok = create_tiny_clip(pretrained=not args.random_init, progress=False)   # pretrained: loaded from the cache (trained once, minutes, when missing)
    sets = {k: dict(s, images=to_tensor(s['images'])) for k, s in zeroshot_sets(args.zeroshot, seed=5).items()}
    images, captions = unique_pairs(args.pairs)
    res = dict(sizes=dict(zeroshot_sets=len(sets), zeroshot_images_per_set=args.zeroshot, retrieval_pairs=len(captions),
                          batch_size=args.batch_size), repeats=args.repeats, statistic='median',
               model=f"tiny-synth-clip ({'random init' if args.random_init else 'pretrained on SynthCaps'}, seed 0)")
    import clip_benchmark
    res['clip_benchmark_version'] = getattr(clip_benchmark, '__version__', '1.6.2')
    runs = dict(zeroshot=(lambda: ours_zeroshot(model, tok, sets), lambda: theirs_zeroshot(model, tok, sets, args.batch_size), args.zeroshot),
                retrieval=(lambda: ours_retrieval(model, tok, images, captions),
                           lambda: theirs_retrieval(model, tok, images, captions, args.batch_size), len(captions)))
    res['metrics'], res['ratios'], res['timings'] = {}, {}, {}
    for name, (ours, theirs, n) in runs.items():
        o, t = ours(), theirs()
        diff = check_same(o, t, n, name)
        t_o, t_t = paired_median_times(ours, theirs, args.repeats, warmup=0)
        res['metrics'][name] = dict(rai_papers=o, clip_benchmark=t, max_abs_diff=diff, identical_counts=True)
        res['ratios'][f'clip_eval_{name}'] = t_o / t_t
        res['timings'][name] = dict(ours_s=t_o, clip_benchmark_s=t_t)
        print(ratio_line(f'clip_eval_{name}', t_o, t_t), flush=True)
    print(f"metrics identical (same hit counts; max |difference| {max(m['max_abs_diff'] for m in res['metrics'].values()):.1e} points); "
          f"written {write_result('clip_eval', res, args.out)}")
    return res


if __name__ == '__main__':
    main()
