"""TeD-SPAD at paper scale on tiny folders in the official layouts (UCF101, VISPR, UCF-Crime): the real code path, with I3D-R50 and ResNet-50."""
import json
import numpy as np
from PIL import Image
from rai_papers.cli import reproduce_one
from rai_papers.video_data import make_tiny_ucf101, make_test_video, VISPR7


def make_tiny_vispr(root, n=8, size=(40, 48), seed=0):
    "VISPR layout: images/<split>/<id>.jpg and annotations/<split>/<id>.json with attribute ids."
    rng = np.random.default_rng(seed)
    for split in ('train2017', 'test2017'):
        (root/'images'/split).mkdir(parents=True); (root/'annotations'/split).mkdir(parents=True)
        for i in range(n):
            labels = [a for k, a in enumerate(VISPR7) if (i >> (k % 3)) & 1]   # every attribute has positives and negatives
            Image.fromarray(rng.integers(0, 255, (*size, 3), dtype=np.uint8)).save(root/'images'/split/f'{split}_{i}.jpg')
            (root/'annotations'/split/f'{split}_{i}.json').write_text(json.dumps(dict(id=f'{split}_{i}', labels=labels)))


def make_tiny_ucf_crime(root, frames=40):
    "UCF-Crime layout: videos in class folders, Anomaly_Train.txt and the temporal test annotation."
    train = ['Abuse/Abuse001_x264.mp4', 'Arson/Arson002_x264.mp4', 'Training_Normal_Videos_Anomaly/Normal_Videos001_x264.mp4',
             'Training_Normal_Videos_Anomaly/Normal_Videos002_x264.mp4']
    for rel in train + ['Abuse/Abuse028_x264.mp4', 'Testing_Normal_Videos_Anomaly/Normal_Videos_003_x264.mp4']:
        make_test_video(root/rel, frames)
    (root/'Anomaly_Train.txt').write_text('\n'.join(train) + '\n')
    (root/'Temporal_Anomaly_Annotation_for_Testing_Videos.txt').write_text(
        'Abuse028_x264.mp4  Abuse  10  25  -1  -1\nNormal_Videos_003_x264.mp4  Normal  -1  -1  -1  -1\n')


def test_paper_scale_runs_on_tiny_official_layouts(tmp_path):
    root = tmp_path/'data'
    make_tiny_ucf101(root, per_class=2, num_frames=24)
    make_tiny_vispr(root/'vispr')
    make_tiny_ucf_crime(root/'ucf_crime')
    run = reproduce_one('tedspad', scale='paper', seed=0, out=tmp_path/'out', params=dict(
        data_root=str(root), n_seeds=1, size=32, steps_action=1, steps_recon=1, steps_minmax=2, steps_vad=2, privacy_epochs=1))
    m = json.loads((run/'metrics.json').read_text())
    assert m['scale'] == 'paper'
    got = {(r['table'], r['dataset'], r['method'], r['metric']) for r in m['records']}
    for method in ('Raw', 'SPAct', 'TeD-SPAD'):
        assert {('privacy', 'vispr', method, 'privacy_cmap'), ('anomaly', 'ucf_crime', method, 'vad_auc'),
                ('utility', 'ucf101', method, 'action_top1')} <= got
    assert all(r['value'] is None or 0 <= r['value'] <= 100 for r in m['records'])
