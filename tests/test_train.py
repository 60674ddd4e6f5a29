"""The shared training loop under real interruptions and real multi-process launches."""
import os, subprocess, sys
from pathlib import Path
import pytest, torch

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT/'tests'/'accelerate_smoke.py'
ENV = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONPATH': str(ROOT)}


def run(args, **kw):
    return subprocess.run(args, env=ENV, capture_output=True, text=True, timeout=300, **kw)


def test_sigkill_after_checkpoint_resumes_to_same_weights(tmp_path):
    whole, killed = tmp_path/'whole', tmp_path/'killed'
    whole.mkdir(); killed.mkdir()
    assert run([sys.executable, SCRIPT, whole]).returncode == 0
    died = run([sys.executable, SCRIPT, killed, '7'])
    assert died.returncode == -9, died.stderr          # really killed, mid-run
    assert not (killed/'weights-0.pt').exists()
    assert (killed/'ckpt'/'step-00000005').exists()
    again = run([sys.executable, SCRIPT, killed])
    assert again.returncode == 0, again.stderr
    a, b = torch.load(whole/'weights-0.pt', weights_only=True), torch.load(killed/'weights-0.pt', weights_only=True)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_accelerate_launch_two_cpu_processes(tmp_path):
    launcher = Path(sys.executable).with_name('accelerate')
    if not launcher.exists(): pytest.skip('accelerate launcher not installed next to this Python')
    # --multi_gpu selects accelerate's torchrun launcher; the script's Accelerator(cpu=True) then runs DDP over gloo
    r = run([launcher, 'launch', '--multi_gpu', '--num_processes', '2', '--num_machines', '1', '--mixed_precision', 'no',
             '--dynamo_backend', 'no', SCRIPT, tmp_path])
    assert r.returncode == 0, r.stderr[-3000:]
    w0, w1 = (torch.load(tmp_path/f'weights-{i}.pt', weights_only=True) for i in (0, 1))
    assert all(torch.equal(w0[k], w1[k]) for k in w0)      # DDP kept the replicas in step
    assert 'rank 1' in r.stdout and 'rank 0' in r.stdout
