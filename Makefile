# Two set-up commands (README): `make book` and `make test`. Both create .venv from the
# pinned requirements on first use (and again whenever the requirement files change).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CONFIG ?= configs/default.yml
PYTEST_ARGS ?=

.PHONY: book test test-fast env clean bench demo-extracts browser pdf latex

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

## Debian's headless Chromium and its driver for the browser test (tests/test_browser.py).
## Installed with apt when missing (needs root, as on CI); never downloads a browser of its own.
browser:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "installing Debian's chromium and chromium-driver for the browser test"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-liberation fonts-dejavu-core >/dev/null; \
	else echo "warning: chromium/chromium-driver missing and not root: the browser test will be skipped"; fi

## Run the whole test suite (incl. the slow end-to-end book build and the browser test).
test: $(STAMP) browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Everything but the slow tests.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

## LaTeX from Debian's packages, installed only for `make pdf` (needs root when missing).
LATEX_PKGS := latexmk texlive-xetex texlive-latex-extra texlive-latex-recommended \
	texlive-fonts-recommended texlive-plain-generic fonts-freefont-otf tex-gyre
latex:
	@if command -v latexmk >/dev/null && command -v xelatex >/dev/null && [ -d /usr/share/fonts/opentype/freefont ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "installing LaTeX (Debian packages) for the PDF"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(LATEX_PKGS) >/dev/null; \
	else echo "error: LaTeX missing; as root run: apt-get install $(LATEX_PKGS)"; exit 1; fi

## PDF of every chapter from the same executed notebooks as the HTML book (_build/book);
## executes the chapters first if no book was built yet. Output: _build/arbeidsindikator.pdf
pdf: $(STAMP) latex
	@test -f _build/book/_config.yml || $(BIN)/python -m arbeidsindikator.book.build --config $(CONFIG) --no-render
	$(BIN)/jupyter-book build _build/book --builder pdflatex --path-output _build/pdf
	cp _build/pdf/_build/latex/book.pdf _build/arbeidsindikator.pdf
	@echo "PDF: _build/arbeidsindikator.pdf"

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_models.py
	$(BIN)/python benchmarks/bench_data.py

## Write a synthetic folder of raw extracts to data/extracts/ (to try configs/extracts.example.yml).
demo-extracts: $(STAMP)
	$(BIN)/python -c "from arbeidsindikator.synthetic.generator import generate_extracts; generate_extracts('data/extracts', n_persons=12000, seed=7)"

clean:
	rm -rf _build
