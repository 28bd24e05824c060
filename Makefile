# `make test` and `make demo` check the native libraries first (tools/system-deps.sh: installs the
# missing Debian packages, or says what to install), then create the virtualenv when it is missing.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
LOCK := requirements.lock
LOCKVENV := .lockvenv

.PHONY: test test-shared demo venv system clean bench fuzz lock

system:
	@bash tools/system-deps.sh

venv: system $(STAMP)

# Exact versions from the lock file (what the suite was run with), then the package itself without resolving again.
$(STAMP): pyproject.toml $(LOCK)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r $(LOCK)
	$(PY) -m pip install -q --no-deps -e .
	touch $(STAMP)

# Regenerate the lock: a fresh virtualenv resolved from pyproject.toml's ranges (the test extra, so every extra),
# frozen. torch first as its CPU build (the local wheel; PyPI's default Linux wheel brings GBs of CUDA libraries).
lock:
	rm -rf $(LOCKVENV) && $(PYTHON) -m venv $(LOCKVENV)
	$(LOCKVENV)/bin/pip install -q --upgrade pip
	$(LOCKVENV)/bin/pip install -q 'torch==2.13.0'
	$(LOCKVENV)/bin/pip install -q '.[test]'
	{ echo "# Exact versions make and CI install (pip install -r $(LOCK)); regenerate with: make lock"; \
	  $(LOCKVENV)/bin/pip freeze --exclude-editable | grep -v '^mocap-pipeline'; } > $(LOCK).new
	mv $(LOCK).new $(LOCK)
	rm -rf $(LOCKVENV)

# Everything in the repository (tests/data); a one-line summary at the end.
# Two pytest-xdist workers (one per core here; WORKERS=1 for one process), each test file kept whole on one worker
# so that module fixtures are computed once.
WORKERS ?= 2
VALIDATOR := tools/gltf-validator/node_modules/gltf-validator

# The Khronos glTF-Validator the tests run on our GLBs (node; exact version in tools/gltf-validator/package-lock.json).
$(VALIDATOR): tools/gltf-validator/package-lock.json
	cd tools/gltf-validator && npm ci --no-audit --no-fund --silent
	touch $(VALIDATOR)

test: venv $(VALIDATOR)
	$(PY) -m pytest -q -p no:cacheprovider -n $(WORKERS) --dist loadfile tests --nbmake notebooks

# Opt-in: tests that read the training corpus in ../shared/data (corpus checks, a short training run).
test-shared: venv
	$(PY) -m pytest -q -p no:cacheprovider tests -m shared

demo: venv
	$(VENV)/bin/mocap demo -o demo_out

# Opt-in: the mutation fuzzer at length (tests/hostile/test_fuzz.py runs 400 inputs per reader in make test).
FUZZ_INPUTS ?= 100000
fuzz: venv
	$(PY) -m mocap.testing.fuzz --inputs $(FUZZ_INPUTS)

bench: venv
	$(PY) benchmarks/triangulation.py

clean:
	rm -rf $(VENV) demo_out
