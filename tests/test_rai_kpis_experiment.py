"""The rai_kpis experiment end to end through reproduce_one, cut to seconds, and the scorecard on
metrics.json files written here with every paper's record names."""
import collections
from pathlib import Path
import numpy as np, pandas as pd, pytest
from rai_papers.cli import reproduce_one
from rai_papers.results import ExperimentRun, load_run
from rai_papers.scorecard import scorecard, scorecard_table, scorecard_figure, AXES

# record names of every experiment (issue #4)
PAPERS = {
    'safer_clip': (['CLIP', 'Safe-CLIP', 'SaFeR-CLIP'], ['zeroshot_top1_avg', 'r1_t2i_safe', 'r1_t2i_unsafe_to_safe', 'r1_i2t_safe',
                                                      'r1_i2t_unsafe_to_safe', 'nsfw_rate_t2i']),
    'albar': (['Vanilla', 'ALBAR'], ['iid_top1', 'scuba_top1', 'scufo_top1', 'conflfg_top1', 'contra']),
    'tedspad': (['Raw', 'SPAct', 'TeD-SPAD'], ['privacy_cmap', 'vad_auc', 'action_top1']),
    'aam': (['Frozen', 'AAM'], ['privacy_cmap', 'action_top1', 'tad_map', 'vad_auc', 'gender_gap']),
    'implicitqa': (['text-only', 'frames'], ['overall_acc', 'category_mean_acc', 'acc/causal', 'acc/spatial']),
    'hello': (['SVC'], ['accuracy']),
}
EXPECTED_AXES = {'safer_clip': {'utility', 'safety'}, 'albar': {'utility', 'robustness'}, 'tedspad': {'utility', 'privacy'},
                 'aam': {'utility', 'privacy', 'fairness'}, 'implicitqa': {'utility'}, 'hello': {'utility'}}


def write_runs(out):
    rng = np.random.default_rng(0)
    for name, (methods, metrics) in PAPERS.items():
        run = ExperimentRun(name, 'smoke', 0, Path(out)/name/'r1')
        for m in methods:
            for k in metrics: run.log('main', m, 'synth', k, float(rng.uniform(0, 100)))
        run.finish()
        (Path(out)/name/'latest').symlink_to('r1')


def test_scorecard_maps_every_paper(tmp_path):
    write_runs(tmp_path)
    sc = scorecard(tmp_path)
    assert sc.attrs['unmapped'] == [] and sc.attrs['skipped'] == []
    for name, axes in EXPECTED_AXES.items():
        got = set(sc[(sc.experiment == name) & (sc.metric != 'run_wall_time_s')].axis) - {''}
        assert got == axes, (name, got)
    assert set(sc[sc.metric == 'run_wall_time_s'].axis) == {'cost'}
    # ImplicitQA's per-category accuracies stay off the scorecard on purpose
    assert set(sc[sc.metric.str.startswith('acc/')].axis) == {''}
    tbl = scorecard_table(sc)
    assert len(tbl) == sum(len(m) for m, _ in PAPERS.values())
    assert list(dict.fromkeys(tbl.columns.get_level_values(0))) == [a for a in AXES if a in set(sc.axis)]
    assert tbl.loc[('albar', 'ALBAR'), ('robustness', 'scufo_top1 ↓')] == \
        sc.query("experiment == 'albar' and method == 'ALBAR' and metric == 'scufo_top1'").value.item()
    fig = scorecard_figure(sc)
    assert [a.get_title() for a in fig.axes] == list(dict.fromkeys(tbl.index.get_level_values(0)))


def test_scorecard_skips_a_corrupt_run_with_a_warning(tmp_path):
    write_runs(tmp_path)
    (tmp_path/'albar'/'r1'/'metrics.json').write_text('{"records": [')
    with pytest.warns(UserWarning, match='skipping the albar run'):
        sc = scorecard(tmp_path)
    assert sc.attrs['skipped'] == ['albar'] and 'albar' not in set(sc.experiment)


@pytest.fixture(scope='module')
def kpis_run(tmp_path_factory):
    out = tmp_path_factory.mktemp('out')
    write_runs(out)
    run_dir = reproduce_one('rai_kpis', out=out, params=dict(datasets='german', max_rows=500, n_boot=20))
    return out, run_dir


def test_rai_kpis_contract(kpis_run):
    out, run_dir = kpis_run
    run = load_run(run_dir)
    rec = run['records']
    assert (out/'rai_kpis'/'latest').resolve() == run_dir
    kp = rec[rec.table == 'kpis']
    assert set(kp.method) == {'LogisticRegression', 'GradientBoosting'} and set(kp.dataset) == {'german'}
    # one record per key, and the headline metrics the scorecard maps are there for every model
    assert max(collections.Counter(map(tuple, rec[['table', 'method', 'dataset', 'metric']].values)).values()) == 1
    for metric in ('accuracy', 'demographic_parity_difference/intersection', 'equalized_odds_difference/intersection',
                   'worst_group_gap/intersection', 'ece_binary', 'mia_auc', 'acc_drop', 'disparate_impact/sex',
                   'statistical_parity_difference/age_group', 'theil_index'):
        assert len(kp[kp.metric == metric]) == 2, metric
    acc = kp[kp.metric == 'accuracy']
    assert acc.value.between(50, 100).all() and (acc.ci_low <= acc.value).all() and (acc.value <= acc.ci_high).all()
    assert kp[kp.metric == 'demographic_parity_ratio/sex'].value.between(0, 1).all()
    # fairness numbers agree with fairlearn and AIF360 (recomputed inside the run)
    cc = rec[rec.table == 'crosscheck']
    assert len(cc) == 4 and (cc.value <= 1e-9).all()
    for f in ('scorecard', 'reliability', 'group_rates'): assert (run_dir/'figures'/f'{f}.png').stat().st_size > 0
    assert (run_dir/'tables'/'kpis.csv').exists()


def test_rai_kpis_scorecard_covers_the_other_papers(kpis_run):
    out, run_dir = kpis_run
    sc = pd.read_csv(run_dir/'tables'/'scorecard.csv')
    assert set(sc.experiment) == set(PAPERS) | {'rai_kpis'}
    assert any(c.startswith('fairness: demographic_parity_difference/intersection') for c in sc.columns)

