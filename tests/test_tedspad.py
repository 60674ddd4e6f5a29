"""TeD-SPAD end to end: the smoke experiment through `reproduce_one` (metrics.json contract), and the library on real-layout folders."""
import json
import numpy as np, pytest, torch
from rai_papers.cli import reproduce_one

METHODS = {'Raw', 'SPAct', 'TeD-SPAD'}


@pytest.mark.xdist_group('tedspad')
def test_smoke_experiment_writes_the_contract(smoke_run):
    run = smoke_run('tedspad')   # conftest.SMOKE_PARAMS['tedspad'], shared with the determinism test
    m = json.loads((run/'metrics.json').read_text())
    assert m['experiment'] == 'tedspad' and m['scale'] == 'smoke'
    recs = m['records']
    for table, metric in (('privacy', 'privacy_cmap'), ('anomaly', 'vad_auc'), ('utility', 'action_top1')):
        got = {r['method']: r for r in recs if r['table'] == table and r['metric'] == metric and r['dataset'] == 'synthvid'}
        assert set(got) >= METHODS, (table, metric, set(got))
        for r in (got[k] for k in METHODS):
            assert 0 <= r['value'] <= 100 and r['n_seeds'] == 1
    chance = [r for r in recs if r['method'] == 'chance' and r['metric'] == 'privacy_cmap']
    assert len(chance) == 1 and 0 < chance[0]['value'] < 100
    for f in ('tables/summary.csv', 'tables/per_seed.csv', 'figures/tradeoff.png', 'figures/examples.png', 'provenance.json'):
        assert (run/f).exists(), f
    prov = json.loads((run/'provenance.json').read_text())
    assert prov['params']['steps_minmax'] == 4 and any(k.startswith('synthvid/') for k in prov['data'])


def test_paper_scale_without_data_says_how_to_get_it(tmp_path):
    from rai_papers.cli import ExperimentFailed
    with pytest.raises(ExperimentFailed, match='crcv.ucf.edu'):
        reproduce_one('tedspad', scale='paper', seed=0, out=tmp_path, params=dict(data_root=str(tmp_path/'missing'), n_seeds=1))


def _tiny(seed=0):
    from rai_papers.backbones import create_small_3dcnn
    from rai_papers.tedspad import TensorRecords, UtilityModel, create_anonymizer, create_budget_model
    g = torch.Generator().manual_seed(seed)
    vids = TensorRecords(dict(video=torch.rand(8, 3, 10, 16, 16, generator=g), label=torch.randint(0, 3, (8,), generator=g)))
    ims = TensorRecords(dict(image=torch.rand(8, 3, 16, 16, generator=g)))
    torch.manual_seed(seed)
    models = (create_anonymizer(base=4, depth=2), UtilityModel(create_small_3dcnn(widths=(4, 8), num_classes=3), 16, 8),
              create_budget_model(widths=(4, 8), proj_dim=8))
    return vids, ims, models


def _weights(models):
    return [{k: v.clone() for k, v in m.state_dict().items()} for m in models]


def _same(a, b):
    return all(torch.equal(x[k], y[k]) for x, y in zip(a, b) for k in x)


def test_minmax_is_deterministic_and_resumes_exactly(tmp_path):
    from rai_papers.tedspad import TeDSPADConfig, train_anonymizer
    cfg = TeDSPADConfig(clip_frames=4, clip_stride=1, size=12, lr_preset='paper')
    kw = dict(clip_batch=4, image_batch=4, seed=3)
    vids, ims, m1 = _tiny()
    train_anonymizer(*m1, vids, ims, cfg, steps=4, **kw)
    _, _, m2 = _tiny()
    train_anonymizer(*m2, vids, ims, cfg, steps=4, **kw)
    assert _same(_weights(m1), _weights(m2))                       # same seed, same weights on CPU
    _, _, m3 = _tiny()
    train_anonymizer(*m3, vids, ims, cfg, steps=2, ckpt_dir=str(tmp_path/'ck'), **kw)
    _, _, m4 = _tiny()                                             # fresh models: everything comes from the checkpoint
    train_anonymizer(*m4, vids, ims, cfg, steps=4, ckpt_dir=str(tmp_path/'ck'), **kw)
    assert _same(_weights(m1), _weights(m4))                       # interrupted at 2 and resumed = straight through


def test_spact_and_tedspad_differ_only_by_the_triplet():
    from rai_papers.tedspad import TeDSPADConfig, train_anonymizer
    vids, ims, ma = _tiny()
    ha = train_anonymizer(*ma, vids, ims, TeDSPADConfig(omega=0.0, clip_frames=4, clip_stride=1, size=12), steps=2, clip_batch=4, image_batch=4)
    _, _, mb = _tiny()
    hb = train_anonymizer(*mb, vids, ims, TeDSPADConfig(omega=0.1, clip_frames=4, clip_stride=1, size=12), steps=2, clip_batch=4, image_batch=4)
    assert float(ha['triplet'].abs().sum()) == 0 and float(hb['triplet'].abs().sum()) > 0
    assert np.allclose(ha['budget'].iloc[0], hb['budget'].iloc[0])   # the same first batch and views: only the utility term differs
