"""Every method's trainer, SIGKILLed right after a checkpoint and rerun, ends with the weights and history of an uninterrupted run.

The training runs in subprocesses (tests/resume_script.py) so that the kill is a real SIGKILL: no `finally`, no atexit,
no flush. The loop's own kill test (tests/test_train.py) covers `rai_papers.train.train`; this one covers what each
method adds on top: several modules and optimizers, schedulers, curriculum stages, alternating min-max steps, RNG
drawn inside datasets and steps, and evaluations in the loop.
"""
import json, os, signal, subprocess, sys
from pathlib import Path
import pytest, torch

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT/'tests'/'resume_script.py'
# one thread: the reference and the resumed run must do the same float sums whatever the machine
ENV = {**os.environ, 'OMP_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1', 'PYTHONPATH': str(ROOT), 'HF_HUB_OFFLINE': '1'}

# (trainer, the checkpoint after which the process dies): each kill point leaves steps still to run
CASES = [('safe-clip', 2), ('safer-clip', 2), ('albar', 2), ('tedspad', 1), ('aam', 1), ('mgfn', 2), ('mil', 2)]


def _script(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], env=ENV, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize('trainer,kill_after', CASES, ids=[c[0] for c in CASES])
def test_sigkill_after_a_checkpoint_resumes_to_the_uninterrupted_result(trainer, kill_after, tmp_path):
    killed = _script(trainer, tmp_path, kill_after)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    run, straight = tmp_path/'run', tmp_path/'straight'
    assert (straight/'weights.pt').exists(), killed.stderr[-3000:]
    on_disk = sorted(p.parent.relative_to(run) for p in (run/'ckpt').rglob('step-*/meta.json'))
    assert on_disk, 'the killed run left no complete checkpoint'
    assert not (run/'weights.pt').exists()                       # it really died before the end

    resumed = _script(trainer, tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    restored = json.loads((tmp_path/'resumed_from.json').read_text())
    assert str(on_disk[-1]) in restored                          # it went on from the newest checkpoint, not from scratch

    want, got = (torch.load(d/'weights.pt', weights_only=True) for d in (straight, run))
    assert want.keys() == got.keys()
    for name in want:
        assert want[name].keys() == got[name].keys()
        for k in want[name]: assert torch.equal(want[name][k], got[name][k]), f'{name}.{k}'
    want_h, got_h = (json.loads((d/'history.json').read_text()) for d in (straight, run))
    assert want_h and want_h == got_h                            # every logged loss term, bit for bit
