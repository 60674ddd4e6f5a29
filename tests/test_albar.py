"""ALBAR: the penalty's double backprop, warm-up sharing by exact resume, peer agreement, and the experiment end to end at both scales."""
import json, shutil
from pathlib import Path
import numpy as np, pytest, torch
import torch.nn.functional as F
from torch import nn
from sklearn.metrics import accuracy_score
from rai_papers.albar import (AlbarConfig, gradient_penalty, static_clip, train_albar, Predictions,
                              static_bias_metrics, STATIC_BIAS_METRICS)
from rai_papers.backbones import create_small_3dcnn
from rai_papers.cli import reproduce_one, ExperimentFailed
from conftest import SMOKE_PARAMS
from rai_papers.train import TrainConfig


class Clips(torch.utils.data.Dataset):
    def __init__(self, n=16, K=3, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.x, self.y = torch.rand(n, 3, 4, 8, 8, generator=g), torch.randint(K, (n,), generator=g)
    def __len__(self): return len(self.y)
    def __getitem__(self, i): return dict(video=self.x[i], label=self.y[i])


def test_gradient_penalty_matches_finite_differences_in_the_weights():
    "The penalty is a function of the weights, and its double-backprop gradient is the right one (gradcheck)."
    torch.manual_seed(0)
    x = static_clip(torch.rand(2, 2, 3, 4, 4, dtype=torch.float64))
    w0 = torch.randn(3, 2, 1, 3, 3, dtype=torch.float64, requires_grad=True)
    for reduction in ('code', 'paper'):
        def gp_of(w):
            z = torch.tanh(F.conv3d(x, w, padding=(0, 1, 1))).amax((2, 3, 4))   # smooth conv layer, max-pool, 3 logits
            return gradient_penalty(z, x, reduction)
        assert torch.autograd.gradcheck(gp_of, (w0,), eps=1e-6, atol=1e-5)


def test_penalty_reaches_every_layer_of_a_batchnorm_cnn():
    torch.manual_seed(0)
    net = create_small_3dcnn(widths=(4, 8), num_classes=3)
    xs = static_clip(torch.rand(4, 3, 4, 8, 8))
    gradient_penalty(net(xs), xs).backward()
    convs = [m for m in net.modules() if isinstance(m, nn.Conv3d)]
    assert all(c.weight.grad is not None and c.weight.grad.abs().sum() > 0 for c in convs)


def test_static_terms_change_the_update():
    "With the same batch and weights, an ALBAR step and a vanilla step update the model differently."
    def one_step(cfg):
        torch.manual_seed(0); net = create_small_3dcnn(widths=(4, 8), num_classes=3)
        train_albar(net, Clips(), cfg, TrainConfig(max_steps=1, batch_size=8, progress=False, device='cpu'), lr=1e-2)
        return torch.cat([p.detach().flatten() for p in net.parameters()])
    van, alb = one_step(AlbarConfig(w_adv=0, w_ent=0, w_gp=0)), one_step(AlbarConfig(w_gp=1))
    assert not torch.allclose(van, alb)


def test_warmup_shared_through_a_checkpoint_equals_a_run_from_scratch(tmp_path):
    "The experiment trains the plain-CE warm-up once and resumes each method from it: same weights as one uninterrupted run."
    cfg = AlbarConfig(w_gp=1, warmup_steps=2, ramp_steps=2, static_frame='random', stillmix_prob=0.5)
    def fresh():
        torch.manual_seed(1); return create_small_3dcnn(widths=(4, 8), num_classes=3)
    tc = lambda steps, ckpt=None: TrainConfig(max_steps=steps, batch_size=4, seed=3, progress=False, device='cpu', ckpt_dir=ckpt)
    direct = fresh(); train_albar(direct, Clips(), cfg, tc(5))
    warm = fresh(); train_albar(warm, Clips(), AlbarConfig(w_adv=0, w_ent=0, w_gp=0), tc(2, str(tmp_path/'warm')), total_steps=5)
    shutil.copytree(tmp_path/'warm'/'step-00000002', tmp_path/'albar'/'step-00000002')
    resumed = fresh(); res = train_albar(resumed, Clips(), cfg, tc(5, str(tmp_path/'albar')))
    assert res.resumed_from == 2
    for (k, a), b in zip(direct.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), k


def test_top1_agrees_with_scikit_learn():
    rng = np.random.default_rng(0)
    logits, y = torch.randn(50, 4), rng.integers(4, size=50)
    p = Predictions(logits, y, list(range(50)))
    assert p.top1() == pytest.approx(100 * accuracy_score(y, logits.argmax(1).numpy()))
    m = static_bias_metrics(dict(iid=p, scuba=p, scufo=Predictions(logits.roll(1, 1), y, list(range(50)))))
    right, twin_wrong = logits.argmax(1).numpy() == y, logits.roll(1, 1).argmax(1).numpy() != y
    assert m['contra'] == pytest.approx(100 * np.mean(right & twin_wrong))




@pytest.mark.xdist_group('albar')
def test_experiment_smoke_end_to_end(smoke_run):
    run = smoke_run('albar')   # conftest.SMOKE_PARAMS['albar']
    m = json.loads((run/'metrics.json').read_text())
    main = [r for r in m['records'] if r['table'] == 'main']
    assert {r['method'] for r in main} == {'Vanilla', 'ALBAR', 'ALBAR-capped', 'StillMix'}
    assert {r['dataset'] for r in main} == {'synthvid'}
    assert set(STATIC_BIAS_METRICS) <= {r['metric'] for r in main}
    assert all(0 <= r['value'] <= 100 and r['n_seeds'] == 2 and r['std'] >= 0 for r in main)
    abl = [r for r in m['records'] if r['table'] == 'ablation']
    assert {'+adv', '+ent', '+gp', 'all, paper GP norm'} <= {r['method'] for r in abl}
    for f in ('tables/main.csv', 'tables/per_seed.csv', 'tables/history.csv', 'figures/main.png', 'figures/terms.png', 'figures/ablation.png'):
        assert (run/f).exists(), f
    assert not (run/'work').exists()                      # checkpoints are cleaned up
    hist = (run/'tables'/'history.csv').read_text()
    assert 'adv' in hist.splitlines()[0] and 'gp' in hist.splitlines()[0]


def test_unknown_method_is_a_clear_error(tmp_path):
    with pytest.raises(ExperimentFailed, match='unknown method'):
        reproduce_one('albar', out=tmp_path, params=dict(SMOKE_PARAMS['albar'], methods='Vanilla,ALBRA'))


def test_experiment_paper_scale_on_tiny_folders(tmp_path):
    "HMDB51 layout + bias sets + a local Swin3D-T checkpoint, through the paper branch of the notebook."
    from torchvision.models.video import swin3d_t
    from rai_papers.video_data import make_tiny_hmdb51, read_hmdb51
    from rai_papers.albar_data import make_tiny_bias_root
    vids = make_tiny_hmdb51(tmp_path/'data', per_class=3, num_frames=8)
    make_tiny_bias_root(tmp_path/'data'/'bias', [Path(v['path']).name for v in read_hmdb51(vids, train=False)[0]], frames=6, size=40)
    torch.manual_seed(0); torch.save(swin3d_t(weights=None).state_dict(), tmp_path/'swin3d_t-7615ae03.pth')
    run = reproduce_one('albar', scale='paper', seed=0, out=tmp_path/'out', params=dict(
        data_root=str(tmp_path/'data'), weights_path=str(tmp_path/'swin3d_t-7615ae03.pth'), n_seeds=1, methods='Vanilla,ALBAR',
        paper_frames=4, paper_stride=1, crop_size=32, epochs=1, paper_batch=2))
    m = json.loads((run/'metrics.json').read_text())
    main = [r for r in m['records'] if r['table'] == 'main']
    assert {r['method'] for r in main} == {'Vanilla', 'ALBAR'} and {r['dataset'] for r in main} == {'hmdb51'}
    assert set(STATIC_BIAS_METRICS) == {r['metric'] for r in main}
    assert (run/'tables'/'per_source.csv').read_text().count('Places365') == 2   # one row per method


def test_paper_scale_without_data_says_how_to_get_it(tmp_path):
    with pytest.raises(ExperimentFailed, match='scuba_scufo.md'):
        reproduce_one('albar', scale='paper', out=tmp_path, params=dict(data_root=str(tmp_path/'nothing')))
