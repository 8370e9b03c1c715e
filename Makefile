# accelops: every target installs what it needs first (idempotent).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.accelops-installed
# Tool environment (Prefect, MLflow): accelops.runtime.DEFAULTS, applied by the CLI, the flows and the tests.

.PHONY: install run test test-fast test-heavy test-all bench repro serve ui-mlflow ui-prefect screenshots clean

install: $(STAMP)

# Re-installs only when the pins or the package metadata change. --require-hashes: pip refuses any file
# whose sha256 requirements.lock does not list (bench/lock_hashes.py regenerates the hashes).
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

run: install
	$(BIN)/python -m accelops_flows.demo

# the suite (every test but the heavy ones, about 10 min on 2 cores); test-fast: unit tests without
# the slow ones (< 60 s); test-heavy: the tests that run a whole tool chain in fresh processes (dvc
# repro, torchrun, a real Prefect server, bench scripts), CI's second job; test-all: both
test: install
	$(BIN)/python -m pytest -q -m "not heavy"

test-fast: install
	$(BIN)/python -m pytest -q -m "unit and not slow"

test-heavy: install
	$(BIN)/python -m pytest -q -m heavy

test-all: install
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python bench/pipeline.py

ui-mlflow: install
	$(BIN)/accelops ui mlflow

ui-prefect: install
	$(BIN)/accelops ui prefect

clean:
	rm -rf .accelops data/raw/*.parquet data/raw/*.json data/landing data/labels .pytest_cache

repro: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dvc repro

serve: install
	$(BIN)/accelops serve

# The UIs photographed by headless Chromium after a file lands and the scheduler retrains (#15): Debian's
# chromium (root, or sudo) and Playwright from requirements-screenshots.lock; writes docs/screenshots/
screenshots: install
	command -v chromium >/dev/null || (apt-get install -y chromium || sudo apt-get install -y chromium)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r requirements-screenshots.lock
	$(BIN)/python bench/landing_to_champion.py --screenshots docs/screenshots
