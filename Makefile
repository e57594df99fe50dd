# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check

.PHONY: install install-dev demo test lint bench clean

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

## make demo: the whole pipeline on embedded defaults (local-folder lake, SQLite warehouse)
demo: $(VENV)/.installed
	$(BIN)/serasan catalog validate
	$(BIN)/serasan demo

## make test: lint, then every test against real PostgreSQL, S3 (moto_server) and SMTP
test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

clean:
	rm -rf .serasan

## make bench: parsing beside pyarrow.csv.read_csv (BENCH_ROWS), validation beside reading Parquet (BENCH_VALIDATE_ROWS), loads beside a bare COPY (BENCH_LOAD_ROWS)
bench: $(VENV)/.installed
	$(BIN)/python bench/parse_bench.py
	$(BIN)/python bench/validate_bench.py
	$(BIN)/python bench/load_bench.py
