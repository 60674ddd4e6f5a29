"""Each experiment run twice with the same seed at smoke scale writes identical metrics.json records."""
import json
from pathlib import Path
import pytest
from conftest import SMOKE_PARAMS

# Records that are wall-clock measurements, not results: they can never repeat exactly. Only AAM logs any (its cost
# table: adapter vs encoder seconds per epoch, their ratio, and feature extraction time, which a second run takes from
# the feature cache). They are kept to their keys here, and listed so that any other timing record shows up as a failure.
TIMINGS = {('aam', 'cost')}


def _records(run_dir):
    return json.loads((Path(run_dir)/'metrics.json').read_text())['records']


def _differences(a, b, limit=20):
    "The records that differ, as readable lines (the assertion message)."
    if len(a) != len(b): return [f'{len(a)} records, then {len(b)}']
    return [f'{x} != {y}' for x, y in zip(a, b) if x != y][:limit]


# hello is left out: tests/test_cli.py::test_hello_twice_same_seed_gives_identical_records already runs it twice
# each experiment's two runs stay on one xdist worker, with its own test, so the first run is shared (see conftest.smoke_run)
@pytest.mark.parametrize('name', [pytest.param(n, marks=pytest.mark.xdist_group(n)) for n in SMOKE_PARAMS if n != 'hello'])
def test_same_seed_twice_gives_identical_records(name, smoke_run):
    first = smoke_run(name)
    second = smoke_run(name, again=True)
    assert first != second                                   # two run folders, not the same one read twice
    a, b = _records(first), _records(second)
    assert a, f'{name}: no records'
    timed = lambda r: (name, r['table']) in TIMINGS
    without_value = lambda rs: [{k: v for k, v in r.items() if k != 'value'} if timed(r) else r for r in rs]
    diff = _differences(without_value(a), without_value(b))
    assert not diff, f'{name}: the second run with seed 0 differs in\n' + '\n'.join(diff)
    assert all(r['value'] > 0 for r in a + b if timed(r))
