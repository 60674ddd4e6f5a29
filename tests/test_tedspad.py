"""TeD-SPAD end to end: the smoke experiment through `reproduce_one` (metrics.json contract), and the library on real-layout folders."""
import json
from pathlib import Path
import numpy as np, pytest, torch
from rai_papers.cli import reproduce_one

TINY = dict(n_seeds=1, size=16, n_train=32, n_test=16, n_images=32, n_anomaly=8, steps_action=4, steps_recon=4,
            steps_minmax=4, steps_vad=4, privacy_epochs=2)
METHODS = {'Raw', 'SPAct', 'TeD-SPAD'}


@pytest.fixture(scope='module')
def smoke_run(tmp_path_factory):
    return reproduce_one('tedspad', seed=0, out=tmp_path_factory.mktemp('out'), params=TINY)


def test_smoke_experiment_writes_the_contract(smoke_run):
    m = json.loads((smoke_run/'metrics.json').read_text())
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
        assert (smoke_run/f).exists(), f
    prov = json.loads((smoke_run/'provenance.json').read_text())
    assert prov['params']['steps_minmax'] == 4 and any(k.startswith('synthvid/') for k in prov['data'])


def test_paper_scale_without_data_says_how_to_get_it(tmp_path):
    from rai_papers.cli import ExperimentFailed
    with pytest.raises(ExperimentFailed, match='crcv.ucf.edu'):
        reproduce_one('tedspad', scale='paper', seed=0, out=tmp_path, params=dict(data_root=str(tmp_path/'missing'), n_seeds=1))
