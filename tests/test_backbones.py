"Backbone builders load local weights exactly, freeze, and the feature cache hits and misses when it should."
import os
import pytest, torch
from torch import nn
from rai_papers.backbones import (create_small_3dcnn, create_swin3d_t, create_i3d_r50, create_resnet50, create_videomae,
                                  Frozen, extract_features, load_features, feature_cache_path, state_fingerprint)

torch.set_num_threads(1)


def same_state(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_swin3d_t_loads_a_torchvision_checkpoint(tmp_path):
    from torchvision.models.video import swin3d_t
    torch.manual_seed(0)
    ref = swin3d_t(weights=None).eval()
    torch.save(ref.state_dict(), tmp_path/'swin3d_t-7615ae03.pth')
    model = create_swin3d_t(weights_path=tmp_path/'swin3d_t-7615ae03.pth', num_classes=400).eval()
    x = torch.rand(1, 3, 4, 32, 32)
    with torch.no_grad(): torch.testing.assert_close(model(x), ref(x))
    hmdb = create_swin3d_t(weights_path=tmp_path/'swin3d_t-7615ae03.pth', num_classes=51).eval()
    with torch.no_grad(): torch.testing.assert_close(hmdb.encode(x), model.encode(x))   # same body, new head
    assert hmdb.head.out_features == 51


def test_i3d_r50_loads_a_pytorchvideo_zoo_checkpoint(tmp_path):
    from pytorchvideo.models.hub.resnet import i3d_r50
    torch.manual_seed(0)
    ref = i3d_r50(pretrained=False, head_pool=nn.AdaptiveAvgPool3d).eval()
    torch.save({'model_state': ref.state_dict(), 'epoch': 196}, tmp_path/'I3D_8x8_R50.pyth')   # the zoo's nesting
    model = create_i3d_r50(weights_path=tmp_path/'I3D_8x8_R50.pyth').eval()
    x = torch.rand(2, 3, 8, 32, 32)
    with torch.no_grad(): torch.testing.assert_close(model(x), ref(x))
    assert model.encode(x).shape == (2, 2048)


def test_resnet50_loads_safetensors_and_reports_missing_files(tmp_path):
    from safetensors.torch import save_file
    from torchvision.models import resnet50
    torch.manual_seed(0)
    ref = resnet50(weights=None).eval()
    save_file(ref.state_dict(), str(tmp_path/'r50.safetensors'))
    model = create_resnet50(weights_path=tmp_path/'r50.safetensors', num_classes=1000).eval()
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad(): torch.testing.assert_close(model(x), ref(x))
    with pytest.raises(FileNotFoundError, match='resnet50-11ad3fa6.pth'): create_resnet50(weights_path=tmp_path/'nope.pth')


def test_videomae_from_a_local_directory(tmp_path):
    from transformers import VideoMAEConfig, VideoMAEForVideoClassification
    cfg = VideoMAEConfig(image_size=32, patch_size=16, num_frames=4, tubelet_size=2, hidden_size=32,
                         num_hidden_layers=1, num_attention_heads=2, intermediate_size=64, num_labels=5)
    torch.manual_seed(0)
    ref = VideoMAEForVideoClassification(cfg).eval()
    ref.save_pretrained(tmp_path/'videomae')
    model = create_videomae(model_dir=tmp_path/'videomae').eval()
    x = torch.rand(2, 3, 4, 32, 32)
    with torch.no_grad(): torch.testing.assert_close(model(x), ref(pixel_values=x.permute(0, 2, 1, 3, 4)).logits)
    assert create_videomae(model_dir=tmp_path/'videomae', num_classes=0)(x).shape == (2, 32)
    with pytest.raises(FileNotFoundError, match='config.json missing'): create_videomae(model_dir=tmp_path)


def test_frozen_encoder_survives_a_training_step():
    torch.manual_seed(0)
    enc = Frozen(create_small_3dcnn(num_classes=0, widths=(4, 8)))
    before = {k: v.clone() for k, v in enc.state_dict().items()}   # includes BatchNorm running stats
    head = nn.Linear(8, 3)
    opt = torch.optim.SGD(head.parameters(), lr=0.1)
    for m in (enc, head): m.train()                                  # what a training loop does
    loss = nn.functional.cross_entropy(head(enc(torch.rand(4, 3, 4, 16, 16))), torch.tensor([0, 1, 2, 0]))
    loss.backward(); opt.step()
    after = enc.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert head.weight.grad is not None and not enc.module.training


class Clips(torch.utils.data.Dataset):
    "Records with one clip each and a `cache_key()`, like the real datasets."
    def __init__(self, n, frames=4, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.videos, self.frames, self.seed = torch.rand(n, 3, frames, 16, 16, generator=g), frames, seed
    def __len__(self): return len(self.videos)
    def __getitem__(self, i): return dict(video=self.videos[i], label=i % 2, attrs=torch.tensor([i % 2, 1.]), video_id=f'v{i}')
    def cache_key(self): return dict(name='clips', n=len(self), frames=self.frames, seed=self.seed)


def test_feature_cache_hit_miss_and_file(tmp_path):
    model = create_small_3dcnn(num_classes=0, widths=(4, 8))
    n_calls = []
    model.encoder.register_forward_hook(lambda m, i, o: n_calls.append(len(i[0])))
    kw = dict(model_name='small3d', cache_root=tmp_path, batch_size=3, progress=False)
    fs = extract_features(model, Clips(5), **kw)
    assert sum(n_calls) == 5 and fs.features.shape == (5, 8) and fs.video_id == ['v0', 'v1', 'v2', 'v3', 'v4']
    path = feature_cache_path('small3d', state_fingerprint(model), Clips(5).cache_key(), tmp_path)
    assert path.is_file() and [p.name for p in path.parent.iterdir()] == [path.name]   # no temp file left
    hit = extract_features(model, Clips(5), **kw)
    assert sum(n_calls) == 5                                   # hit: encoder not called
    torch.testing.assert_close(hit.features, fs.features)
    torch.testing.assert_close(load_features(path).attrs, fs.attrs)
    extract_features(model, Clips(5, frames=8), **kw)          # other sampling (frames per clip): miss
    assert sum(n_calls) == 10
    extract_features(model, Clips(5), use_cache=False, **kw)   # forced recompute
    assert sum(n_calls) == 15


def test_feature_cache_distinguishes_frozen_weights(tmp_path):
    a, b = create_small_3dcnn(num_classes=0, widths=(4, 8)), create_small_3dcnn(num_classes=0, widths=(4, 8))
    fa = extract_features(Frozen(a), Clips(3), model_name='m', cache_root=tmp_path, progress=False)
    fb = extract_features(Frozen(b), Clips(3), model_name='m', cache_root=tmp_path, progress=False)
    assert not torch.allclose(fa.features, fb.features)
    assert len(os.listdir(tmp_path/'m')) == 2


def test_x3d_loads_a_pytorchvideo_checkpoint(tmp_path):
    from pytorchvideo.models.x3d import create_x3d
    kw = dict(input_clip_length=4, input_crop_size=32, width_factor=1.0, depth_factor=1.0, head_dim_out=64, head_activation=None)
    torch.manual_seed(0)
    ref = create_x3d(model_num_class=400, dropout_rate=0., **kw).eval()
    torch.save({'model_state': ref.state_dict()}, tmp_path/'X3D.pyth')
    from rai_papers.backbones import create_x3d as ours
    model = ours(clip_length=4, crop_size=32, width_factor=1.0, depth_factor=1.0, head_dim=64, weights_path=tmp_path/'X3D.pyth').eval()
    x = torch.rand(2, 3, 4, 32, 32)
    with torch.no_grad(): torch.testing.assert_close(model(x), ref(x))
    assert model.encode(x).shape == (2, 64)
