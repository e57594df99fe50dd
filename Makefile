# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check

.PHONY: install install-dev browser demo test test-unit lint docs bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt pyproject.toml | $(BIN)/python
	$(PIP) install -q -r requirements.txt -e .
	$(PIP) check
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PIP) install -q -r requirements-dev.txt
	$(PIP) check
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

## make browser: Debian's chromium and chromium-driver for the browser tests, and poppler-utils (pdftoppm, pdfinfo, pdftotext) for the evaluation pack's PDF, installed where missing
BROWSER_PKGS := chromium chromium-driver poppler-utils
APT_GET      := DEBIAN_FRONTEND=noninteractive apt-get
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null \
	  && command -v pdftoppm >/dev/null && command -v pdfinfo >/dev/null; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=; \
	elif command -v sudo >/dev/null; then sudo=sudo; \
	else echo "make browser: chromium, chromedriver or pdftoppm is missing and there is neither root nor" \
	  "sudo to install them; install the Debian packages $(BROWSER_PKGS)" \
	  "(apt-get install $(BROWSER_PKGS)) and run make again" >&2; exit 1; fi; \
	echo "installing $(BROWSER_PKGS) with apt-get"; \
	$$sudo env $(APT_GET) update -q && \
	$$sudo env $(APT_GET) install -y -q --no-install-recommends $(BROWSER_PKGS) || \
	{ echo "make browser: apt-get could not install $(BROWSER_PKGS); install those Debian" \
	  "packages yourself and run make again" >&2; exit 1; }; \
	command -v chromium && command -v chromedriver && command -v pdftoppm && command -v pdfinfo

## make demo: the whole pipeline on embedded defaults (local-folder lake, SQLite warehouse)
demo: $(VENV)/.installed
	$(BIN)/serasan catalog validate
	$(BIN)/serasan demo

## make test: lint, the docs, then every test against real PostgreSQL, S3, SMTP and Chromium
test: lint docs browser
	$(BIN)/python -m pytest

## make test-unit: the fast loop, no services needed
test-unit: $(VENV)/.installed-dev
	$(BIN)/python -m pytest tests/unit

## make lint: ruff (lint and format), mypy and the import contracts, on the installed layout
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python tools/lint_tree.py mypy
	$(BIN)/python tools/lint_tree.py imports

## make docs: the MkDocs site, strict (a broken link or a stale generated page fails)
docs: $(VENV)/.installed-dev
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

clean:
	rm -rf .serasan

## make bench: parsing beside pyarrow.csv.read_csv (BENCH_ROWS), validation beside reading Parquet (BENCH_VALIDATE_ROWS), loads beside a bare COPY (BENCH_LOAD_ROWS), `serasan ingest`'s fixed cost beside the import floor and its marginal cost per row (BENCH_INGEST_ROWS, default 200,000)
bench: $(VENV)/.installed
	$(BIN)/python bench/parse_bench.py
	$(BIN)/python bench/validate_bench.py
	$(BIN)/python bench/load_bench.py
	$(BIN)/python bench/dag_parse_bench.py
	$(BIN)/python bench/ingest_bench.py
	$(BIN)/python bench/xlsx_bench.py
	$(BIN)/python bench/sentiment_eval.py
