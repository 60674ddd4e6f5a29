"""AAM at paper scale on tiny built folders: HMDB51, VISPR, THUMOS14, UCF-Crime and NTU layouts, a local VideoMAE directory."""
import json
from pathlib import Path
import numpy as np, pytest, torch

from rai_papers.video_data import make_test_video, make_tiny_hmdb51, VISPR7
from rai_papers.train import TrainConfig
from rai_papers.aam import create_aam, create_heads, AAMTrainSet, fit_heads, train_aam
from rai_papers.aam_eval import paper_aam_data, evaluate_adapter, ProbeConfig, create_paper_encoder


def build_layout(root:Path):
    "Tiny folders in the layouts `paper_aam_data` reads."
    from PIL import Image
    rng = np.random.default_rng(0)
    make_tiny_hmdb51(root/'hmdb51', per_class=3, num_frames=20)
    for split, n in (('train2017', 8), ('test2017', 6)):
        for i in range(n):
            (root/'vispr'/'images'/split).mkdir(parents=True, exist_ok=True)
            (root/'vispr'/'annotations'/split).mkdir(parents=True, exist_ok=True)
            Image.fromarray((rng.random((24, 32, 3)) * 255).astype(np.uint8)).save(root/'vispr'/'images'/split/f'{i}.jpg')
            labels = [VISPR7[i % 7], VISPR7[(i + 3) % 7]]
            (root/'vispr'/'annotations'/split/f'{i}.json').write_text(json.dumps(dict(image_path=f'images/{split}/{i}.jpg', labels=labels, id=str(i))))
    ann = root/'thumos14'/'annotation'; ann.mkdir(parents=True)
    for split, tag in (('val', 'validation'), ('test', 'test')):
        for k in range(2):
            make_test_video(root/'thumos14'/'videos'/f'video_{tag}_000000{k}.mp4', 48)
        (ann/f'BaseballPitch_{split}.txt').write_text(f'video_{tag}_0000000 0.2 0.9\nvideo_{tag}_0000001 1.0 1.6\n')
        (ann/f'CliffDiving_{split}.txt').write_text(f'video_{tag}_0000001 0.1 0.6\n')
    crime = root/'ucf_crime'
    for name in ('Burglary001', 'Burglary002', 'Normal_Videos001', 'Normal_Videos002', 'Burglary010', 'Normal_Videos010'):
        make_test_video(crime/'videos'/f'{name}_x264.mp4', 40)
    (crime/'Anomaly_Train.txt').write_text('Burglary/Burglary001_x264.mp4\nBurglary/Burglary002_x264.mp4\n'
                                           'Training_Normal_Videos_Anomaly/Normal_Videos001_x264.mp4\nTraining_Normal_Videos_Anomaly/Normal_Videos002_x264.mp4\n')
    (crime/'Temporal_Anomaly_Annotation_for_Testing_Videos.txt').write_text(
        'Burglary010_x264.mp4 Burglary 10 25 -1 -1\nNormal_Videos010_x264.mp4 Normal -1 -1 -1 -1\n')
    ntu = root/'ntu'/'nturgb+d_rgb'
    for subj in (1, 7, 2, 5):
        for a in (1, 4):
            for r in (1, 2): make_test_video(ntu/f'S001C001P{subj:03d}R{r:03d}A{a:03d}_rgb.avi', 20)
    (root/'ntu'/'ntu_subject_gender_labels.json').write_text(json.dumps({'P001': 'M', 'P007': 'F', 'P002': 'F', 'P005': 'M'}))


def tiny_videomae(path:Path)->Path:
    from transformers import VideoMAEConfig, VideoMAEForVideoClassification
    cfg = VideoMAEConfig(image_size=32, patch_size=16, num_frames=16, tubelet_size=2, hidden_size=32, num_hidden_layers=1,
                         num_attention_heads=2, intermediate_size=64, num_labels=3)
    torch.manual_seed(0)
    VideoMAEForVideoClassification(cfg).save_pretrained(str(path))
    return path


@pytest.fixture(scope='module')
def paper(tmp_path_factory):
    d = tmp_path_factory.mktemp('aam_paper')
    build_layout(d/'data')
    weights = tiny_videomae(d/'videomae')
    return paper_aam_data(d/'data', encoder='videomae', weights=weights, size=32, n_static=3, batch_size=8,
                          cache_root=d/'cache', progress=False), d


def test_paper_scale_reads_every_layout(paper):
    (fe, data, clip_shape), _ = paper
    assert clip_shape == (3, 16, 32, 32) and data.ar_train.dim == 32
    assert len(data.ar_train) == 3 and len(data.ar_test) == 3 and data.num_actions == 3   # one train and one test video per class
    assert data.ar_train.static.shape == (3, 3, 32)
    assert [len(t) for t in data.ar_train.tokens] == [2, 2, 2]                          # 20 frames: two 16-frame snippets (the last padded)
    assert data.vispr_train.shape == (8, 32) and data.vispr_test_attrs.shape == (6, 7)
    assert data.num_tad_classes == 2 and len(data.tad_train) == 2 and data.tad_test.segments[1].shape == (2, 3)
    assert data.tad_train.snippet_labels[0].tolist() == [1, 0, 0]                       # BaseballPitch at 0.2-0.9 s covers most of snippet 0
    assert data.ad_train.label.tolist() == [1, 1, 0, 0] and len(data.ad_test.frame_labels[0]) == 40
    assert sorted(data.bias_test.group.tolist()) == [0, 0, 0, 0, 1, 1, 1, 1]
    assert all(len(t) == 5 for t in data.bias_train.tokens)


def test_paper_scale_trains_and_evaluates_from_the_cache(paper):
    (fe, data, _), d = paper
    calls = []
    fe.module.encoder.register_forward_hook(lambda *a: calls.append(1))
    ds = AAMTrainSet(data.ar_train, data.tad_train, data.ad_train)
    heads = create_heads(dim=32, num_actions=data.num_actions, tad_classes=data.num_tad_classes, ad_head='mgfn',
                         ad_kwargs=dict(dims=(16, 32), depths=(1, 1), kinds=('glance', 'focus'), dim_head=8, k=2))
    cfg = TrainConfig(max_steps=2, batch_size=2, progress=False, device='cpu', log_every=1)
    fit_heads(heads, ds, cfg, n_segments=4)
    fa = create_aam(dim=32, heads=8)
    res = train_aam(fa, heads, ds, cfg, n_segments=4)
    assert np.isfinite(res.history.loss).all()
    pc = ProbeConfig(privacy_epochs=2, privacy_eval_every=1, action_epochs=2, action_eval_every=1, tad_epochs=2, ad_head='mil',
                     ad_kwargs=dict(hidden=(4,)), ad_steps=2, ad_batch=2, ad_segments=4)
    m = evaluate_adapter(fa, data, pc)
    assert {'privacy_cmap', 'action_top1', 'tad_map', 'vad_auc', 'gender_gap'} <= set(m)
    assert not calls   # the encoder never ran: training and probes read cached features


def test_missing_weights_and_unknown_encoder_say_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match='huggingface-cli download'): create_paper_encoder('videomae', tmp_path/'none')
    with pytest.raises(ValueError, match="'videomae' or 'i3d_r50'"): create_paper_encoder('vjepa', tmp_path)
