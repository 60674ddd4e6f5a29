"""AAM: the experiment end to end, batch independence, the joint step, and the metric contract."""
import json, math
import numpy as np, pytest, torch
from sklearn.metrics import average_precision_score

from rai_papers.aam import (create_aam, nt_xent, pad_tokens, unpad, aam_objective, AAMWeights,
                            segment_pool_batch)
from rai_papers.aam_eval import temporal_map, interpolated_ap, gender_gap, train_privacy_probe
from rai_papers.tedspad_vad import segment_pool



@pytest.fixture(scope='module')
def tiny_run(smoke_run):
    return smoke_run('aam')   # conftest.SMOKE_PARAMS['aam'], with a cache of its own; shared with the determinism test


@pytest.mark.xdist_group('aam')
def test_experiment_writes_the_issue_contract(tiny_run):
    m = json.loads((tiny_run/'metrics.json').read_text())
    assert m['experiment'] == 'aam' and m['scale'] == 'smoke'
    recs = {(r['table'], r['method'], r['dataset'], r['metric']): r for r in m['records']}
    for method in ('Frozen', 'AAM', 'AAM (batch attention)', 'AAM (AR only)', 'AAM (ω_LC = 1)'):
        for table, metric in (('privacy', 'privacy_cmap'), ('utility', 'action_top1'), ('utility', 'tad_map'),
                              ('utility', 'vad_auc'), ('bias', 'gender_gap')):
            r = recs[(table, method, 'synthvid', metric)]
            assert r['n_seeds'] == 2 and 0 <= r['value'] <= 100, r
    assert recs[('cost', 'AAM', 'synthvid', 'speedup')]['value'] > 1
    for f in ('tables/privacy_utility.csv', 'tables/gender_bias.csv', 'tables/comparison.csv', 'figures/privacy_utility.png',
              'figures/gender_bias.png', 'provenance.json'):
        assert (tiny_run/f).exists(), f


def test_batch_independence_of_the_default_adapter():
    torch.manual_seed(0)
    seqs = [torch.randn(n, 32) for n in (4, 1, 7, 2, 5)]
    x, pad = pad_tokens(seqs)
    for over, independent in (('sample', True), ('batch', False)):
        fa = create_aam(dim=32, heads=8, attention_over=over).eval()
        with torch.no_grad():
            together = unpad(fa(x, pad), pad)
            alone = [fa(s[None])[0] for s in seqs]
            shuffled = unpad(fa(x.flip(0), pad.flip(0)), pad.flip(0))[::-1]
        same = all(torch.allclose(a, b, atol=1e-5) for a, b in zip(together, alone))
        same_shuffled = all(torch.allclose(a, b, atol=1e-5) for a, b in zip(together, shuffled))
        assert same == independent and (same_shuffled or not independent)
    # the released code's check: row 0 of a (5, d) batch against the same row alone
    fa = create_aam(dim=32, heads=8, attention_over='batch').eval()
    rows = torch.randn(5, 32)
    with torch.no_grad(): assert not torch.allclose(fa(rows)[0], fa(rows[:1])[0], atol=1e-4)


def test_nt_xent_matches_a_direct_formula():
    torch.manual_seed(1)
    u, w, tau = torch.randn(5, 8), torch.randn(5, 8), 0.1
    z = torch.nn.functional.normalize(torch.cat([u, w]), dim=1)
    sim = (z @ z.T / tau).exp()
    n, losses = 5, []
    for i in range(2 * n):
        pos = (i + n) % (2 * n)
        losses.append(-math.log(sim[i, pos] / (sim[i].sum() - sim[i, i])))
    assert abs(nt_xent(u, w, tau).item() - np.mean(losses)) < 1e-5


def test_total_subtracts_the_budget_and_weights_latent_consistency():
    lc, b = torch.tensor(0.02), torch.tensor(3.0)
    assert aam_objective(lc, {'ar': torch.tensor(1.0)}, b).item() == pytest.approx(100 * 0.02 + 1 - 3)
    assert aam_objective(lc, {}, b, AAMWeights(lc=0, budget=0)).item() == 0


def test_segment_pool_batch_agrees_with_tedspad():
    seqs = [torch.randn(n, 6) for n in (1, 9, 33, 32)]
    x, pad = pad_tokens(seqs)
    ref = torch.stack([segment_pool(s, 32) for s in seqs])
    assert torch.allclose(segment_pool_batch(x, pad, 32), ref, atol=1e-5)


def test_interpolated_ap_bounds_sklearn_step_ap():
    # with no unmatched ground truth and no ties, the interpolated AP upper-bounds sklearn's step AP and both are 1 for a perfect ranking
    y = np.array([1, 1, 0, 1, 0]); s = np.array([0.9, 0.8, 0.7, 0.6, 0.1])
    tp = y[np.argsort(-s)]
    prec, rec = np.cumsum(tp) / np.arange(1, 6), np.cumsum(tp) / tp.sum()
    assert interpolated_ap(prec, rec) >= average_precision_score(y, s) - 1e-12
    assert interpolated_ap(np.ones(3), np.array([1/3, 2/3, 1])) == pytest.approx(1.0)


def test_detection_map_is_one_for_exact_predictions_and_drops_with_shift():
    gt = [[(0, 16, 0), (32, 64, 1)], [(8, 24, 1)]]
    exact = [[(s, e, c, 0.9) for s, e, c in g] for g in gt]
    shifted = [[(s + 6, e + 6, c, 0.9) for s, e, c in g] for g in gt]
    assert temporal_map(exact, gt)['map'] == pytest.approx(1.0)
    assert temporal_map(shifted, gt)['map'] < 1.0


def test_gender_gap_agrees_with_fairlearn():
    from fairlearn.metrics import MetricFrame
    from sklearn.metrics import accuracy_score
    rng = np.random.default_rng(0)
    y, p, f = rng.integers(0, 4, 200), rng.integers(0, 4, 200), rng.integers(0, 2, 200)
    mf = MetricFrame(metrics=accuracy_score, y_true=y, y_pred=p, sensitive_features=f)
    assert gender_gap(y, p, f)['gap'] == pytest.approx(100 * mf.difference())


def test_privacy_probe_best_is_at_least_last_and_bad_probe_name_fails():
    g = torch.Generator().manual_seed(0)
    a = (torch.rand(120, 2, generator=g) > 0.5).float()
    x = torch.cat([a, torch.randn(120, 4, generator=g)], 1)
    r = train_privacy_probe(x[:80], a[:80], x[80:], a[80:], epochs=6, eval_every=2, batch_size=32, lr=1e-2)
    assert r['cmap_best'] >= r['cmap_last']
    with pytest.raises(ValueError, match="'mlp' or 'linear'"): train_privacy_probe(x, a, x, a, probe='cnn')
