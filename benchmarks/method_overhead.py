"""Training-step overhead of each method against its own baseline (same backbone, same batch).

One step = forward + backward + optimizer update, timed as the median of N repeats after warm-up (method and
baseline calls interleaved),
single-threaded. Pairs (ratio = method / baseline):

- SaFeR-CLIP vs Safe-CLIP, LoRA on the tiny SynthCaps CLIP; nearest-safe targets are precomputed,
  so both steps encode the same four inputs (target: at most 1.1x).
- ALBAR vs vanilla on the smoke 3D CNN: ALBAR adds a static-clip forward pass and a gradient
  penalty (a double backward), so about 3-4x is what the method implies.
- TeD-SPAD vs SPAct: one min-max iteration (an f_A step then an f_T + f_B step); only the triplet term differs.
- AAM adapter training on cached features vs the same step that also runs the frozen encoder
  to produce those features (ratio < 1: what the feature cache saves).

    OMP_NUM_THREADS=1 python benchmarks/method_overhead.py [--quick] [--repeats 9]
"""
import argparse, sys
from pathlib import Path
import torch, torch.nn as nn, torch.nn.functional as F
sys.path.insert(0, str(Path(__file__).parent))
from _common import paired_median_times, ratio_line, write_result


class _CPU:
    "The part of an `accelerate.Accelerator` that `rai_papers.train.StepContext` uses, without the loop."
    device = torch.device('cpu')
    def backward(self, loss): loss.backward()
    def clip_grad_norm_(self, params, max_norm): return nn.utils.clip_grad_norm_(params, max_norm)


def make_ctx(modules:dict, optimizers:dict):
    "A `StepContext` over `modules` and `optimizers`, as the shared training loop builds it."
    from rai_papers.train import StepContext, TrainConfig
    return StepContext(_CPU(), modules, optimizers, {}, TrainConfig(max_steps=1, progress=False, device='cpu'))


def loop_step(step_fn, ctx, batch, step:int=1):
    "What the shared loop does for one step: call the step function, optimise 'loss' unless it did so itself."
    ctx.step, ctx.micro, ctx.optimized = step, 0, False
    terms = step_fn(batch, ctx)
    if not ctx.optimized: ctx.optimize(terms['loss'])


def clip_pair(s:dict):
    from rai_papers.safer_clip import SafeCLIPLoss, SaFeRCLIPLoss, apply_lora, lora_parameters, LoRACfg
    from rai_papers.synth_caps import build_tiny_clip, IMAGE_SIZE
    torch.manual_seed(0)
    model, _, tok = build_tiny_clip(seed=0)
    apply_lora(model, LoRACfg()); model.train()
    B, D = s['clip_batch'], model.text_projection.shape[1]
    caps = [f'a photo of {i} red circles next to a blue square' for i in range(B)]
    batch = dict(tok_t=tok(caps), tok_t_u=tok([c.replace('circles', 'knives') for c in caps]),
                 img_v=torch.randn(B, 3, IMAGE_SIZE, IMAGE_SIZE), img_v_u=torch.randn(B, 3, IMAGE_SIZE, IMAGE_SIZE),
                 **{k: F.normalize(torch.randn(B, D), dim=-1) for k in ('t0', 'v0', 't0_u', 'v0_u', 't0_hat', 'v0_hat')})
    ctx = make_ctx({'model': model}, {'main': torch.optim.Adam(lora_parameters(model), lr=1e-4)})
    def step(loss_fn):
        def fn(batch, ctx):
            m = ctx.modules['model']
            t, t_u = m.encode_text(batch['tok_t']), m.encode_text(batch['tok_t_u'])
            v, v_u = m.encode_image(batch['img_v']), m.encode_image(batch['img_v_u'])
            return loss_fn(t, t_u, v, v_u, output_dict=True, **{k: batch[k] for k in ('t0', 'v0', 't0_u', 'v0_u', 't0_hat', 'v0_hat')})
        return lambda: loop_step(fn, ctx, batch)
    return step(SaFeRCLIPLoss()), step(SafeCLIPLoss()), dict(batch=B, embed_dim=D, model='tiny-synth-clip + LoRA r=16')


def albar_pair(s:dict):
    from rai_papers.albar import AlbarConfig, albar_step
    from rai_papers.backbones import create_small_3dcnn
    torch.manual_seed(0)
    model = create_small_3dcnn(num_classes=10).train()
    B, T, H = s['video_batch'], s['frames'], s['side']
    batch = dict(video=torch.randn(B, 3, T, H, H), label=torch.randint(0, 10, (B,)))
    ctx = make_ctx({'model': model}, {'main': torch.optim.AdamW(model.parameters(), lr=1e-4)})
    albar, vanilla = albar_step(AlbarConfig()), albar_step(AlbarConfig(w_adv=0, w_ent=0, w_gp=0))
    return (lambda: loop_step(albar, ctx, batch), lambda: loop_step(vanilla, ctx, batch),
            dict(batch=B, clip=[3, T, H, H], model='create_small_3dcnn widths (16, 32, 64)'))


def tedspad_pair(s:dict):
    from rai_papers.tedspad import TeDSPADConfig, minmax_step, create_anonymizer, UtilityModel, create_budget_model
    from rai_papers.backbones import create_small_3dcnn
    torch.manual_seed(0)
    T, H, B = s['frames'], s['side'], s['video_batch']
    mods = dict(fa=create_anonymizer(base=8, depth=2), ft=UtilityModel(create_small_3dcnn(num_classes=5), proj_hidden=64, proj_dim=32),
                fb=create_budget_model(widths=(8, 16, 32), proj_dim=32))
    ctx = make_ctx(mods, {k: torch.optim.Adam(m.parameters(), lr=1e-4) for k, m in mods.items()})
    batch = dict(video=torch.rand(B, 3, 2 * T, H, H), label=torch.randint(0, 5, (B,)), image=torch.rand(2 * B, 3, H, H))
    def iteration(cfg):
        def run():   # odd step: f_A update; even step: f_T and f_B updates
            for step in (1, 2): loop_step(lambda b, c: minmax_step(b, c, cfg), ctx, batch, step)
        return run
    kw = dict(clip_frames=T, clip_stride=1, size=H)
    return (iteration(TeDSPADConfig(omega=0.1, **kw)), iteration(TeDSPADConfig(omega=0.0, **kw)),
            dict(batch=B, video=[3, 2 * T, H, H], images=2 * B, anonymiser='UNet base 8 depth 2', utility='small 3D CNN'))


def aam_pair(s:dict):
    from rai_papers.aam import create_aam, latent_consistency, nt_xent, aam_objective
    from rai_papers.backbones import create_small_3dcnn, Frozen
    torch.manual_seed(0)
    B, L, T, H = s['aam_batch'], s['tokens'], s['frames'], s['side']
    encoder = Frozen(create_small_3dcnn(num_classes=0))
    d = encoder.module.dim_out
    adapter, head = create_aam(dim=d, depth=3, heads=4), nn.Linear(d, 10)
    ctx = make_ctx({'adapter': adapter, 'head': head}, {'main': torch.optim.AdamW([*adapter.parameters(), *head.parameters()], lr=1e-4)})
    clips, static = torch.randn(B * L, 3, T, H, H), torch.randn(2 * B, 3, T, H, H)
    with torch.no_grad(): cached = dict(tokens=encoder.encode(clips).view(B, L, d), static=encoder.encode(static).view(B, 2, d))
    labels = torch.randint(0, 10, (B,))
    def fn(batch, ctx):
        h, st = batch['tokens'], batch['static']
        a = ctx.modules['adapter'](h)
        ce = F.cross_entropy(ctx.modules['head'](a.mean(1)), batch['label'])
        return aam_objective(latent_consistency(h, a), {'ar': ce}, nt_xent(ctx.modules['adapter'](st[:, 0]), ctx.modules['adapter'](st[:, 1])), output_dict=True)
    def with_encoder():
        with torch.no_grad(): feats = dict(tokens=encoder.encode(clips).view(B, L, d), static=encoder.encode(static).view(B, 2, d))
        loop_step(fn, ctx, dict(feats, label=labels))
    return (lambda: loop_step(fn, ctx, dict(cached, label=labels)), with_encoder,
            dict(batch=B, tokens_per_video=L, dim=d, clip=[3, T, H, H], encoder='frozen create_small_3dcnn (a stand-in: real encoders are far larger)'))


PAIRS = {'saferclip_vs_safeclip': clip_pair, 'albar_vs_vanilla': albar_pair, 'tedspad_vs_spact': tedspad_pair,
         'aam_cached_vs_encoder': aam_pair}
SIZES = dict(full=dict(clip_batch=32, video_batch=8, frames=8, side=32, aam_batch=8, tokens=8),
             quick=dict(clip_batch=4, video_batch=2, frames=4, side=16, aam_batch=2, tokens=2))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--quick', action='store_true', help='tiny sizes and few repeats (tests)')
    p.add_argument('--repeats', type=int, default=9)
    p.add_argument('--warmup', type=int, default=3)
    p.add_argument('--out', default=None)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    sizes = SIZES['quick' if args.quick else 'full']
    repeats, warmup = (2, 1) if args.quick else (args.repeats, args.warmup)
    res = dict(sizes=sizes, repeats=repeats, warmup=warmup, statistic='median', pairs={})
    for name, build in PAIRS.items():
        ours, base, info = build(sizes)
        t_ours, t_base = paired_median_times(ours, base, repeats, warmup)
        res['pairs'][name] = dict(ratio=t_ours / t_base, ours_s=t_ours, baseline_s=t_base, **info)
        print(ratio_line(name, t_ours, t_base), flush=True)
    res['ratios'] = {k: v['ratio'] for k, v in res['pairs'].items()}
    print(f"written {write_result('method_overhead', res, args.out)}")
    return res


if __name__ == '__main__':
    main()
