# Two set-up commands (README): `make book` and `make test`. Both create .venv from the
# pinned requirements on first use (and again whenever the requirement files change).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CONFIG ?= configs/default.yml
PYTEST_ARGS ?=

.PHONY: book test test-fast env clean bench demo-extracts

$(STAMP): requirements.txt requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==26.3"
	$(BIN)/python -m pip install --quiet -r requirements.txt -c requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (arbeidsindikator)" >/dev/null
	touch $(STAMP)

env: $(STAMP)

## Build the whole book from a run configuration (default: the embedded synthetic data).
book: $(STAMP)
	$(BIN)/python -m arbeidsindikator.book.build --config $(CONFIG)

## Run the whole test suite (incl. the slow end-to-end book build).
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Everything but the slow tests.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_models.py
	$(BIN)/python benchmarks/bench_data.py

## Write a synthetic folder of raw extracts to data/extracts/ (to try configs/extracts.example.yml).
demo-extracts: $(STAMP)
	$(BIN)/python -c "from arbeidsindikator.synthetic.generator import generate_extracts; generate_extracts('data/extracts', n_persons=12000, seed=7)"

clean:
	rm -rf _build
