# `make test` and `make demo` check the native libraries first (tools/system-deps.sh: installs the
# missing Debian packages, or says what to install), then create the virtualenv when it is missing.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test test-shared demo venv system clean bench fuzz

system:
	@bash tools/system-deps.sh

venv: system $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

# Everything in the repository (tests/data); a one-line summary at the end.
test: venv
	$(PY) -m pytest -q -p no:cacheprovider tests --nbmake notebooks

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
