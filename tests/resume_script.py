"""Train one method's tiny model in its own process, optionally SIGKILLing itself right after a checkpoint.

Run: python tests/resume_script.py TRAINER OUT_DIR [KILL_AFTER_SAVE]
TRAINER is a key of `TRAINERS`. A run in OUT_DIR/run writes checkpoints to OUT_DIR/run/ckpt and, at the end,
weights.pt (every module's state dict) and history.json (the loop's history). With KILL_AFTER_SAVE = k the process
first trains straight through into OUT_DIR/straight, then starts OUT_DIR/run and dies by SIGKILL as soon as that run's
k-th checkpoint is on disk. Without it, the process reruns OUT_DIR/run (resuming) and lists the checkpoints it
restored in OUT_DIR/resumed_from.json.
"""
import json, os, signal, sys
from pathlib import Path
import torch
import rai_papers.train as loop


def _clip(out, method):
    from rai_papers.synth_caps import build_tiny_clip, make_quadruplets, to_tensor
    from rai_papers.safer_clip import FinetuneCfg, LoRACfg, fine_tune
    model, _, tok = build_tiny_clip(seed=1)
    q = make_quadruplets(32, 'train', seed=4)
    quads = dict(safe=q['safe'], nsfw=q['nsfw'], safe_image=to_tensor(q['safe_image']), nsfw_image=to_tensor(q['nsfw_image']))
    cfg = FinetuneCfg(method=method, batch_size=8, epochs=3, lr=1e-2, progress=False, lora=LoRACfg(r=4, alpha=4))
    model, hist, _ = fine_tune(model.eval(), tok, quads, cfg, ckpt_dir=str(out/'ckpt'), ckpt_every=2)
    return {'model': model}, hist


def _albar(out):
    from rai_papers.albar import AlbarConfig, train_albar
    from rai_papers.backbones import create_small_3dcnn
    from rai_papers.tedspad import TensorRecords
    g = torch.Generator().manual_seed(0)
    data = TensorRecords(dict(video=torch.rand(16, 3, 4, 8, 8, generator=g), label=torch.randint(3, (16,), generator=g)))
    torch.manual_seed(1)
    model = create_small_3dcnn(widths=(4, 8), num_classes=3)
    # warm-up, ramp and StillMix all straddle the kill point, so the resumed run must restore the step count and the RNG
    cfg = AlbarConfig(w_gp=1, warmup_steps=2, ramp_steps=2, static_frame='random', stillmix_prob=0.5)
    tc = loop.TrainConfig(max_steps=6, batch_size=4, seed=3, progress=False, device='cpu', log_every=1,
                          ckpt_dir=str(out/'ckpt'), ckpt_every=2)
    return {'model': model}, train_albar(model, data, cfg, tc).history


def _tedspad(out):
    from rai_papers.backbones import create_small_3dcnn
    from rai_papers.tedspad import (TeDSPADConfig, TensorRecords, UtilityModel, create_anonymizer, create_budget_model,
                                    train_anonymizer)
    g = torch.Generator().manual_seed(0)
    vids = TensorRecords(dict(video=torch.rand(8, 3, 10, 16, 16, generator=g), label=torch.randint(0, 3, (8,), generator=g)))
    ims = TensorRecords(dict(image=torch.rand(8, 3, 16, 16, generator=g)))
    torch.manual_seed(0)
    fa, ft, fb = (create_anonymizer(base=4, depth=2), UtilityModel(create_small_3dcnn(widths=(4, 8), num_classes=3), 16, 8),
                  create_budget_model(widths=(4, 8), proj_dim=8))
    cfg = TeDSPADConfig(clip_frames=4, clip_stride=1, size=12, lr_preset='paper')
    # checkpoint every step: killed after the first (an f_A step), the resumed run starts on an f_T/f_B step
    hist = train_anonymizer(fa, ft, fb, vids, ims, cfg, steps=4, clip_batch=4, image_batch=4, seed=3,
                            ckpt_dir=str(out/'ckpt'), ckpt_every=1)
    return {'fa': fa, 'ft': ft, 'fb': fb}, hist


def _aam(out):
    from rai_papers.aam import AAMTrainSet, VideoTokens, create_aam, create_heads, train_aam
    d, g = 16, torch.Generator().manual_seed(0)
    toks = lambda n, lo, hi: [torch.randn(int(torch.randint(lo, hi, (), generator=g)), d, generator=g) for _ in range(n)]
    ar = VideoTokens(toks(8, 2, 5), label=torch.randint(3, (8,), generator=g), static=torch.randn(8, 3, d, generator=g))
    lengths = (3, 4, 5, 6)
    tad = VideoTokens([torch.randn(n, d, generator=g) for n in lengths], snippet_labels=[torch.randint(3, (n,), generator=g) for n in lengths])
    ad = VideoTokens(toks(4, 4, 8), label=torch.tensor([1, 1, 0, 0]))
    torch.manual_seed(0)
    adapter, heads = create_aam(dim=d, depth=1, heads=2), create_heads(dim=d, num_actions=3, tad_classes=2, ad_head='mil',
                                                                       ad_kwargs=dict(hidden=(4,)))
    cfg = loop.TrainConfig(max_steps=4, batch_size=2, seed=3, progress=False, device='cpu', log_every=1,
                           ckpt_dir=str(out/'ckpt'), ckpt_every=2)
    res = train_aam(adapter, heads, AAMTrainSet(ar, tad, ad), cfg, n_segments=4)
    return {'adapter': adapter, 'heads': heads}, res.history


def _anomaly(out, name):
    from rai_papers.tedspad_vad import create_mgfn_head, create_mil_head, train_anomaly_head
    g = torch.Generator().manual_seed(0)
    normal, abnormal = torch.randn(6, 8, 16, generator=g), torch.randn(6, 8, 16, generator=g) + 0.5
    torch.manual_seed(0)
    head = (create_mgfn_head(feature_dim=16, dims=(8, 16), depths=(1, 1), kinds=('glance', 'focus'), dim_head=8, k=2)
            if name == 'mgfn' else create_mil_head(feature_dim=16, hidden=(8, 4)))
    # the final evaluation is part of the result: it must see the same head after a resume
    res = train_anomaly_head(head, name, normal, abnormal, steps=6, batch_size=3, seed=3, ckpt_dir=str(out/'ckpt'), ckpt_every=2,
                             evaluate=lambda h: h(abnormal).mean() - h(normal).mean())
    return {'head': head}, res.history.assign(final_eval=res.evals[-1][1])


TRAINERS = {'safe-clip': lambda o: _clip(o, 'Safe-CLIP'), 'safer-clip': lambda o: _clip(o, 'SaFeR-CLIP'), 'albar': _albar,
            'tedspad': _tedspad, 'aam': _aam, 'mgfn': lambda o: _anomaly(o, 'mgfn'), 'mil': lambda o: _anomaly(o, 'mil')}


def _run(trainer: str, out: Path):
    out.mkdir(parents=True, exist_ok=True)
    modules, hist = TRAINERS[trainer](out)
    torch.save({name: m.state_dict() for name, m in modules.items()}, out/'weights.pt')
    (out/'history.json').write_text(json.dumps(hist.to_dict('records')))


def main(trainer: str, out: Path, kill_after: int = 0):
    os.environ.setdefault('RAI_PAPERS_CACHE', str(out/'cache'))
    run = out/'run'
    if kill_after:
        # the reference run shares this process with the killed one to save an interpreter start; everything it
        # depends on is seeded, so the killed run starts from the same state as in a fresh process
        _run(trainer, out/'straight')
        # the loop looks `save_checkpoint` up in its module at each call, so this wrapper sees every save of every trainer
        save, saves = loop.save_checkpoint, []
        def save_then_die(*a, **k):
            path = save(*a, **k); saves.append(path)
            if len(saves) == kill_after: os.kill(os.getpid(), signal.SIGKILL)
            return path
        loop.save_checkpoint = save_then_die
    else:
        # which checkpoints the rerun restored: a rerun that silently started over would also match the reference
        load, loaded = loop.load_checkpoint, []
        def load_and_note(path, *a, **k):
            loaded.append(str(Path(path).relative_to(run))); (out/'resumed_from.json').write_text(json.dumps(loaded))
            return load(path, *a, **k)
        loop.load_checkpoint = load_and_note
    _run(trainer, run)


if __name__ == '__main__':
    main(sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 0)
