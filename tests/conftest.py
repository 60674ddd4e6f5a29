"""Shared fixtures: each experiment at the smoke parameters its own tests use, run once per session."""
import pytest

# parameters that cut each experiment to seconds; the experiments' end-to-end tests and the determinism test share the
# runs through `smoke_run` (rai_kpis's own test adds fake runs of the other papers for its scorecard, so it runs apart)
SMOKE_PARAMS = {
    'hello': dict(max_train=300),
    'safer_clip': dict(n_seeds=2, n_train=24, epochs=3, batch_size=8, sweep='0.5', n_test=6, n_zeroshot=18,
                       pretrain_steps=10, pretrain_pairs=256),
    'albar': dict(n_seeds=2, n_train=48, n_test=24, frames=4, size=16, widths='4,8', steps=6, warmup_steps=3, ramp_steps=2,
                  batch_size=8, methods='Vanilla,ALBAR,ALBAR-capped,StillMix'),
    'tedspad': dict(n_seeds=1, size=16, n_train=32, n_test=16, n_images=32, n_anomaly=8, steps_action=4, steps_recon=4,
                    steps_minmax=4, steps_vad=4, privacy_epochs=2),
    'aam': dict(n_seeds=2, n_train=24, n_untrimmed=6, n_vispr=24, encoder_steps=2, aam_steps=2, probe_epochs=2),
    'implicitqa': dict(max_questions=80, synth_videos=4, n_boot=50),
    'rai_kpis': dict(datasets='german', max_rows=500, n_boot=20),
}


@pytest.fixture(scope='session')
def smoke_run(tmp_path_factory):
    """`smoke_run(name)`: the run folder of experiment `name` at `SMOKE_PARAMS[name]`, seed 0, executed once per session;
    `smoke_run(name, again=True)` executes it once more into the same experiment folder (its `latest` moves on)."""
    from rai_papers.cli import reproduce_one
    root, first = tmp_path_factory.mktemp('smoke'), {}
    def run(name, again=False):
        if name in first and not again: return first[name]
        mp = pytest.MonkeyPatch()
        # one thread in the kernel: ALBAR's convolutions sum in another order with more, and the runs must be comparable
        for k in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS'): mp.setenv(k, '1')
        mp.setenv('HF_HUB_OFFLINE', '1')
        mp.setenv('RAI_PAPERS_CACHE', str(root/'cache'/name))   # caches of this session only; a second run reads them
        try: done = reproduce_one(name, seed=0, out=root/'out'/name, params=SMOKE_PARAMS[name])
        finally: mp.undo()
        first.setdefault(name, done)
        return done
    return run
