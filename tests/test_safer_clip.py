"SaFeR-CLIP / Safe-CLIP: the frozen reference, training behaviour, target caching, and the experiment end to end."
import copy, json, re
import numpy as np, pytest, torch
from rai_papers.synth_caps import build_tiny_clip, make_quadruplets, to_tensor, plural, SAFE_KINDS, UNSAFE_KINDS
from rai_papers.safer_clip import (FinetuneCfg, LoRACfg, METHODS, fine_tune, frozen_copy, lora_parameters, nearest_safe_targets,
                                   SafeCLIPLoss, SaFeRCLIPLoss, apply_lora)

@pytest.fixture(scope='module')
def world():
    model, _, tok = build_tiny_clip(seed=1)
    q = make_quadruplets(32, 'train', seed=4)
    quads = dict(safe=q['safe'], nsfw=q['nsfw'], safe_image=to_tensor(q['safe_image']), nsfw_image=to_tensor(q['nsfw_image']))
    return model.eval(), tok, quads

def _outputs(m, tok, quads):
    with torch.no_grad(): return m.encode_text(tok(quads['nsfw'])), m.encode_image(quads['nsfw_image'])

@pytest.mark.parametrize('method', METHODS)
def test_reference_does_not_change_during_training(world, method, tmp_path, monkeypatch):
    monkeypatch.setenv('RAI_PAPERS_CACHE', str(tmp_path))
    base, tok, quads = world
    model = copy.deepcopy(base)
    ref = frozen_copy(model)
    before = _outputs(ref, tok, quads); params = {k: v.clone() for k, v in ref.state_dict().items()}
    model, hist, ref_out = fine_tune(model, tok, quads, FinetuneCfg(method=method, batch_size=8, epochs=3, lr=1e-2, progress=False,
                                                                    lora=LoRACfg(r=4, alpha=4)), ref=ref)
    assert ref_out is ref
    after = _outputs(ref, tok, quads)
    for a, b in zip(before, after): assert torch.equal(a, b)  # bit-identical
    assert all(torch.equal(params[k], v) for k, v in ref.state_dict().items())
    assert not any('lora_' in k for k in ref.state_dict())
    moved = _outputs(model, tok, quads)
    assert not torch.allclose(moved[0], before[0], atol=1e-4)  # the trained model did move
    assert len(hist) > 0 and np.isfinite(hist['loss']).all()

def test_only_lora_tensors_train(world):
    base, tok, quads = world
    model = apply_lora(copy.deepcopy(base), LoRACfg(r=2, alpha=2, dropout=0.))
    for p in lora_parameters(model): torch.nn.init.normal_(p, 0, .05)
    ref = frozen_copy(base)
    t, t_u = model.encode_text(tok(quads['safe'][:4])), model.encode_text(tok(quads['nsfw'][:4]))
    v, v_u = model.encode_image(quads['safe_image'][:4]), model.encode_image(quads['nsfw_image'][:4])
    with torch.no_grad(): t0, v0 = ref.encode_text(tok(quads['safe'][:4])), ref.encode_image(quads['safe_image'][:4])
    SafeCLIPLoss()(t, t_u, v, v_u, t0, v0).backward()
    grads = {n: p.grad for n, p in model.named_parameters() if p.grad is not None}
    assert grads and all('lora_' in n for n in grads)
    assert all(p.grad is None for p in ref.parameters())

def test_safer_targets_prefer_the_sibling_and_cache(tmp_path, monkeypatch):
    "With an encoder that only knows outlines, each unsafe caption's target is a safe caption of its sibling outline."
    monkeypatch.setenv('RAI_PAPERS_CACHE', str(tmp_path))
    axes = {k: i for i, k in enumerate(SAFE_KINDS)}
    outline = {**{k: k for k in SAFE_KINDS}, **{k: b for k, (b, _) in UNSAFE_KINDS.items()}}
    outline.update({plural(k): b for k, b in list(outline.items())})
    def outline_encoder(texts):
        out = torch.full((len(texts), len(SAFE_KINDS)), 1e-3)
        for i, t in enumerate(texts):
            for w in re.findall('[a-z]+', t):
                if w in outline: out[i, axes[outline[w]]] = 1
        return out
    q = make_quadruplets(60, 'train', seed=2)
    j, p = nearest_safe_targets(outline_encoder, q['nsfw'], q['safe'], chunk=16, cache_key='outline')
    for i, jj in enumerate(j.tolist()):
        unsafe_kind = q['nsfw_scene'][i]['objects'][0]['kind']
        if any(s['objects'][0]['kind'] == UNSAFE_KINDS[unsafe_kind][0] for s in q['scene']):
            assert q['scene'][jj]['objects'][0]['kind'] == UNSAFE_KINDS[unsafe_kind][0]
    cached = list((tmp_path / 'safer_clip' / 'targets').glob('*.pt'))
    assert len(cached) == 1
    j2, p2 = nearest_safe_targets(lambda xs: (_ for _ in ()).throw(AssertionError('cache miss')), q['nsfw'], q['safe'], cache_key='outline')
    assert torch.equal(j, j2) and torch.equal(p, p2)

def test_loss_weights_and_bad_method(world):
    assert sum(SafeCLIPLoss().weights.values()) == pytest.approx(1.75)
    w = SaFeRCLIPLoss(redirect_scale=2).weights
    assert w['xr_vision'] == pytest.approx(1.) and w['pr_text'] == pytest.approx(.1)
    base, tok, quads = world
    with pytest.raises(ValueError, match='unknown method'): fine_tune(copy.deepcopy(base), tok, quads, FinetuneCfg(method='CLIP'))

@pytest.mark.xdist_group('safer_clip')
def test_experiment_contract(smoke_run):
    "The experiment notebook end to end at a few seconds' size (conftest.SMOKE_PARAMS), through the CLI runner; checks the metrics.json contract."
    run_dir = smoke_run('safer_clip')
    metrics = json.loads((run_dir / 'metrics.json').read_text())
    main = [r for r in metrics['records'] if r['table'] == 'main']
    keys = {(r['method'], r['dataset'], r['metric']) for r in main}
    for method in ('CLIP', 'Safe-CLIP', 'SaFeR-CLIP'):
        for dataset in ('synth_visu', 'synth_nsfwcaps'):
            for metric in ('zeroshot_top1_avg', 'r1_t2i_safe', 'r1_t2i_unsafe_to_safe', 'r1_i2t_safe', 'r1_i2t_unsafe_to_safe', 'nsfw_rate_t2i'):
                assert (method, dataset, metric) in keys
    for r in main:
        assert 'std' in r and r['value'] is not None
        if r['metric'].startswith(('r1_', 'nsfw_', 'zeroshot_')): assert 0 <= r['value'] <= 100
    assert {r['n_seeds'] for r in main if r['method'] != 'CLIP'} == {2}  # the sweep's single-seed x0.5 runs stay out of the main table
    frontier = {r['method'] for r in metrics['records'] if r['table'] == 'frontier'}
    assert {'Safe-CLIP x0.5', 'SaFeR-CLIP x0.5', 'Safe-CLIP x1', 'SaFeR-CLIP x1'} <= frontier
    assert (run_dir / 'figures' / 'frontier.png').exists() and (run_dir / 'outcome.md').exists()

def test_experiment_paper_scale_on_a_fixture(tmp_path, monkeypatch):
    "The paper-scale path (local weights, ViSU / NSFWCaps files, image folders) on a tiny fixture, with a tiny model in place of ViT-L/14."
    import open_clip
    from rai_papers.cli import reproduce_one
    from rai_papers.synth_caps import _register_config, TINY_CLIP
    from rai_papers.safer_clip_data import make_paper_fixture
    monkeypatch.setenv('RAI_PAPERS_CACHE', str(tmp_path / 'cache'))
    root = make_paper_fixture(tmp_path / 'data', n=8)
    _register_config()
    torch.save(open_clip.create_model(TINY_CLIP).state_dict(), root / 'clip_weights.pt')
    run_dir = reproduce_one('safer_clip', scale='paper', seed=0, out=tmp_path / 'out',
                            params=dict(data_root=str(root), clip_model=TINY_CLIP, paper_epochs=2, paper_batch_size=4, n_seeds=1, sweep=''))
    metrics = json.loads((run_dir / 'metrics.json').read_text())
    keys = {(r['method'], r['dataset'], r['metric']) for r in metrics['records'] if r['table'] == 'main'}
    for method in ('CLIP', 'Safe-CLIP', 'SaFeR-CLIP'):
        for dataset in ('visu', 'nsfwcaps'):
            for metric in ('zeroshot_top1_avg', 'r1_t2i_safe', 'r1_t2i_unsafe_to_safe', 'r1_i2t_unsafe_to_safe', 'nsfw_rate_t2i'):
                assert (method, dataset, metric) in keys
    assert metrics['scale'] == 'paper'
