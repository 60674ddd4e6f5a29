"SynthVid: determinism, cache, bad input, speed, and the properties the papers' protocols rely on."
import time
import numpy as np, pytest, torch
from sklearn.linear_model import LogisticRegression
from rai_papers.synth_video import (SPLITS, ATTR_NAMES, SynthVidConfig, SynthVidDataset, generate_split, make_split,
                                    ntu_bias_gender)

CFG = SynthVidConfig(frames=8, size=32)

@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch): monkeypatch.setenv('RAI_PAPERS_CACHE', str(tmp_path))

def test_same_seed_same_data_other_seed_other_data():
    for split in SPLITS:
        a, b = generate_split(split, 6, CFG, seed=1), generate_split(split, 6, CFG, seed=1)
        assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a), split
    pix = lambda r: r.get('video', r.get('image'))
    assert not np.array_equal(pix(generate_split('train', 6, CFG, 1)), pix(generate_split('train', 6, CFG, 2)))
    assert not np.array_equal(pix(generate_split('train', 6, CFG, 1)), pix(generate_split('test', 6, CFG, 1)))

def test_record_shapes_and_ranges():
    for split in SPLITS:
        r = make_split(split, 5, CFG)
        pix = r['video'] if 'video' in r else r['image']
        assert pix.dtype == torch.float32 and 0 <= pix.min() and pix.max() <= 1, split
        assert pix.shape[:2] == (5, 3) and pix.shape[-2:] == (32, 32), split
        assert r['attrs'].shape == (5, len(ATTR_NAMES)) and set(r['attrs'].unique().tolist()) <= {0., 1.}, split
        if split.startswith(('train', 'test', 'scuba', 'scufo', 'conflfg')): assert pix.shape[2] == CFG.frames
        if split.startswith(('anomaly', 'tad')): assert pix.shape[2] == CFG.snippets * CFG.frames

def test_cache_is_reused_and_corrupt_file_regenerated(tmp_path):
    a = make_split('test', 7, CFG, seed=3)
    files = list((tmp_path / 'synthvid').glob('test-*.pt'))
    assert len(files) == 1
    assert torch.equal(make_split('test', 7, CFG, seed=3)['video'], a['video'])
    files[0].write_bytes(b'not a torch file')
    with pytest.warns(UserWarning, match='unreadable cached split'): b = make_split('test', 7, CFG, seed=3)
    assert torch.equal(b['video'], a['video'])
    assert torch.equal(make_split('test', 7, CFG, seed=3, dtype=torch.uint8)['video'].float() / 255, a['video'])

def test_bad_input_says_what_to_do():
    with pytest.raises(ValueError, match='use one of train, test'): make_split('validation', 4, CFG)
    with pytest.raises(ValueError, match='positive int'): make_split('train', -1, CFG)
    with pytest.raises(ValueError, match='p_fg must be a probability'): SynthVidConfig(p_fg=2)
    with pytest.raises(ValueError, match='raise snippets or lower n_segments'): SynthVidConfig(snippets=4, n_segments=3)

def test_dataloader_batches_every_split():
    for split in SPLITS:
        batch = next(iter(torch.utils.data.DataLoader(SynthVidDataset(split, 4, CFG), batch_size=2)))
        assert batch['attrs'].shape == (2, len(ATTR_NAMES)), split

def test_thousands_of_clips_in_seconds():
    t0 = time.perf_counter(); generate_split('train', 2000, CFG); dt = time.perf_counter() - t0
    assert dt < 30, f"2000 clips of 8x32x32 took {dt:.1f} s"   # about 1.5 s on an idle core; generous for a shared machine

def _single_frames(cfg, n, seed):
    r = generate_split('train', n, cfg, seed)
    t = np.random.default_rng(seed).integers(cfg.frames, size=n)
    return r['video'][np.arange(n), :, t].reshape(n, -1) / 255, r['label']

@pytest.mark.filterwarnings('ignore::sklearn.exceptions.ConvergenceWarning')   # a capped probe is enough to see chance
def test_action_is_not_in_any_single_frame_but_a_tie_is():
    "A linear probe on one random frame is near chance without static ties, and far above it with a background tie."
    def probe_accuracy(**knobs):
        cfg = SynthVidConfig(frames=8, size=16, **knobs)   # 16x16 keeps the probe fast; the laws scale with size
        (X, y), (Xt, yt) = _single_frames(cfg, 1200, 0), _single_frames(cfg, 600, 1)
        return LogisticRegression(max_iter=200, C=0.1).fit(X, y).score(Xt, yt)
    acc_fair, acc_tied = probe_accuracy(p_bg=0, p_fg=0), probe_accuracy(p_bg=1, p_fg=0)
    assert acc_fair < 0.25 < 0.8 < acc_tied, (acc_fair, acc_tied)   # chance is 1/8

def test_ntu_bias_ratios_are_realised():
    cfg = SynthVidConfig(frames=2, size=8, p_gender=ntu_bias_gender(8, shortcut=3, favour='F'))   # tiny clips: only factors matter here
    r = generate_split('train', 4000, cfg)
    female, label = r['attrs'][:, 0], r['label']
    assert abs(female[label == 3].mean() - 0.95) < 0.04 and abs(female[label != 3].mean() - 0.05) < 0.02
    test = generate_split('test', 2000, SynthVidConfig(frames=2, size=8))   # the balanced test split
    assert abs(test['attrs'][:, 0].mean() - 0.5) < 0.05

def test_abnormal_segments_break_the_motion_law():
    "Frames inside an abnormal segment change more from one to the next than the same video's normal frames."
    r = generate_split('anomaly_test', 60, CFG, seed=2)
    v = r['video'].astype(np.float32)
    change = np.abs(np.diff(v, axis=2)).mean(axis=(1, 3, 4))                    # (n, L-1)
    inside = r['frame_labels'][:, 1:].astype(bool)
    ab = np.flatnonzero(r['label'])
    ratio = [change[i][inside[i]].mean() / change[i][~inside[i]].mean() for i in ab]
    assert np.median(ratio) > 1.5, np.round(ratio, 2)
    assert not r['frame_labels'][r['label'] == 0].any()

def test_scuba_scufo_conflfg_protocols():
    test, scuba, scufo, confl = (make_split(s, 30, CFG, seed=4, dtype=torch.uint8) for s in ('test', 'scuba', 'scufo', 'conflfg'))
    assert torch.equal(scuba['label'], test['label']) and torch.equal(scuba['attrs'], test['attrs'])
    assert (scuba['background'] >= CFG.n_places).all() and (test['background'] < CFG.n_places).all()
    assert (scufo['video'] == scufo['video'][:, :, :1]).all()                    # no motion at all
    assert torch.equal(scufo['label'], scuba['label'])
    assert (confl['static_label'] != confl['label']).all()
    stripes = make_split('scufo_stripes', 30, CFG, seed=4, dtype=torch.uint8)   # SCUBA's "Sinusoid" source
    assert torch.equal(stripes['label'], scufo['label']) and torch.equal(stripes['frame_index'], scufo['frame_index'])
    assert (stripes['background'] == -1).all() and not torch.equal(stripes['video'], scufo['video'])
