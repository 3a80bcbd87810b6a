# One target per habit. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# Two stamps: serving needs only the portal; the tests and linters need the [test] extra too.
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
PIP := $(BIN)/pip --disable-pip-version-check
# uv installs into the venv what pip would, in a fifth of the time (pip only installs uv itself).
UV := $(BIN)/uv pip install --quiet --python $(BIN)/python

.DEFAULT_GOAL := help
.PHONY: help run test test-sqlite test-postgres test-browser lint format migration bench scale-check scale-check-short install chromium clean
# The database `make test-postgres` (and `make test` when TEST_POSTGRES_URL is set) drops and re-creates.
TEST_POSTGRES_URL ?=
LINTED := src tests bench

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 20

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	@$(PIP) install --quiet uv

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	@echo "Installing the portal into $(VENV) ..."
	@$(UV) -e .
	@touch $(RUN_STAMP)

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	@echo "Installing the portal and its test tools into $(VENV) ..."
	@$(UV) -e '.[test]'
	@touch $(RUN_STAMP) $(TEST_STAMP)

install: $(TEST_STAMP) ## create .venv and install the portal with its test tools

run: $(RUN_STAMP) ## migrate, load demo data on first run, serve http://127.0.0.1:8000 (PORT, HOST, DATABASE_URL honoured)
	@$(BIN)/portal migrate
	@$(BIN)/portal load-demo --if-empty
	@$(BIN)/portal serve

chromium: ## make sure Debian's Chromium is there for the browser tests
	@bash scripts/ensure-chromium.sh

test: $(TEST_STAMP) chromium ## the whole suite with the browser journeys on SQLite, and on PostgreSQL beside it when TEST_POSTGRES_URL is set (README "Test it")
	@bash scripts/test-both.sh

test-sqlite: $(TEST_STAMP) ## the suite on SQLite, without the browser journeys
	$(BIN)/pytest -m "not browser" --durations=15 --durations-min=1.0

test-postgres: $(TEST_STAMP) ## the suite on PostgreSQL (TEST_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/portal_test), engine-free modules left out
	TEST_DATABASE_URL="$${TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/portal_test}" \
	  $(BIN)/pytest -m "not browser and not engine_free" --durations=15 --durations-min=1.0

test-browser: $(TEST_STAMP) chromium ## the Playwright journeys in Debian's Chromium against a real `portal serve`
	$(BIN)/pytest -m browser

lint: $(TEST_STAMP) ## ruff (lint and format check), mypy on src/, import-linter (who may import whom)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy src
	$(BIN)/lint-imports

format: $(TEST_STAMP) ## ruff format and autofix, over the same folders `make lint` checks
	$(BIN)/ruff format $(LINTED)
	$(BIN)/ruff check --fix $(LINTED)

migration: $(TEST_STAMP) ## a new migration from the tables' changes: make migration NAME=add_something (review it, then commit)
	@test -n "$(NAME)" || { echo "usage: make migration NAME=what_it_does" >&2; exit 2; }
	PICCOLO_CONF=piccolo_conf $(BIN)/piccolo migrations new portal --auto --desc="$(NAME)"

bench: $(TEST_STAMP) ## benchmarks: the 10,000-connection gate, `portal serve` under wrk, mail throughput (see bench/README)
	@bash scripts/ensure-wrk.sh
	$(BIN)/python -m bench

scale-check: $(TEST_STAMP) ## 3 web processes and 2 mail workers behind nginx (deploy/) on PostgreSQL + Redis, killed and cut off under load (bench/README)
	@bash scripts/ensure-nginx.sh
	$(BIN)/python -m bench.scale

scale-check-short: $(TEST_STAMP) ## the same in at most 90 s (run by .ci/run)
	@bash scripts/ensure-nginx.sh
	$(BIN)/python -m bench.scale --short

clean: ## remove the virtual environment and local data under var/
	rm -rf $(VENV) var
