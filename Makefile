# Dealer price pipeline. `make help` lists the targets.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.DEFAULT_GOAL := help
.PHONY: help install migrate demo worker test bench bench-quick lint

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## create the virtualenv in .venv and install the project with its dev tools

migrate: $(STAMP) ## apply the schema to DATABASE_URL (or the embedded server), idempotently
	$(BIN)/pipeline migrate

demo: $(STAMP) ## embedded Postgres, synthetic feeds, two ingest rounds through the real worker
	$(BIN)/pipeline demo

worker: $(STAMP) ## run one procrastinate worker (one per replica in production)
	$(BIN)/procrastinate --app=pipeline.queue.app worker

test: $(STAMP) ## run the test suite against a throwaway Postgres
	$(BIN)/pytest

BENCH_STAMP := $(VENV)/.bench-stamp
$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP) ## every tier end to end vs raw COPY and naive upserts (bench/results.md, ~10 min)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

bench-quick: $(BENCH_STAMP) ## tiers up to 10,000 SKUs, one repetition (under a minute)
	$(BIN)/python -m bench.run --quick $(BENCH_ARGS)

lint: $(STAMP) ## ruff (lint, import order, format) and mypy --strict on pipeline/
	$(BIN)/ruff check pipeline tests bench
	$(BIN)/ruff format --check pipeline tests bench
	$(BIN)/mypy
