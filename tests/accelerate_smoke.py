"""Smoke training under `accelerate launch`: a tiny regression through `rai_papers.train`.

Run: accelerate launch --multi_gpu --num_processes 2 tests/accelerate_smoke.py OUT_DIR [KILL_AFTER_STEP]
Each process writes OUT_DIR/weights-<rank>.pt; with KILL_AFTER_STEP the process SIGKILLs itself
after that step's checkpoint (used by the resume test, single process).
"""
import os, signal, sys
from pathlib import Path
import torch, torch.nn as nn, torch.nn.functional as F
from torch.utils.data import Dataset
from rai_papers.train import TrainConfig, train


class Points(Dataset):
    def __init__(self, n=96):
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(n, 4, generator=g); self.y = self.x @ torch.tensor([1., -2., .5, 3.])
    def __len__(self): return len(self.x)
    def __getitem__(self, i): return {'x': self.x[i], 'y': self.y[i]}


def main(out: Path, kill_after: int = 0):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.Dropout(0.1), nn.Linear(16, 1))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    def step(batch, ctx):
        loss = F.mse_loss(ctx.modules['model'](batch['x']).squeeze(-1), batch['y'])
        return {'loss': loss}
    def killing_step(batch, ctx):
        # the checkpoint of step `kill_after` is on disk once step kill_after+1 starts
        if kill_after and ctx.step == kill_after + 1: os.kill(os.getpid(), signal.SIGKILL)
        return step(batch, ctx)
    cfg = TrainConfig(max_steps=20, batch_size=8, ckpt_dir=str(out/'ckpt'), ckpt_every=5, progress=False, device='cpu')
    res = train(killing_step, {'model': model}, {'main': opt}, Points(), cfg)
    from accelerate import PartialState
    rank = PartialState().process_index
    torch.save(model.state_dict(), out/f'weights-{rank}.pt')
    print(f"rank {rank}: final loss {res.history.loss.iloc[-1]:.4f}", flush=True)


if __name__ == '__main__':
    main(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 0)
