# `make test` and `make demo` create the virtualenv from scratch when it is missing.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test demo venv clean bench

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q tests --nbmake notebooks

demo: $(STAMP)
	$(VENV)/bin/mocap demo -o demo_out

bench: $(STAMP)
	$(PY) benchmarks/triangulation.py

clean:
	rm -rf $(VENV) demo_out
