# One target per habit. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# Two stamps: serving needs only the portal; the tests and linters need the [test] extra too.
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
PIP := $(BIN)/pip --disable-pip-version-check

.DEFAULT_GOAL := help
.PHONY: help run test test-sqlite test-postgres test-browser lint format bench install clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 16

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	@$(PIP) install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	@echo "Installing the portal into $(VENV) ..."
	@$(PIP) install --quiet -e .
	@touch $(RUN_STAMP)

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	@echo "Installing the portal and its test tools into $(VENV) ..."
	@$(PIP) install --quiet -e '.[test]'
	@touch $(RUN_STAMP) $(TEST_STAMP)

install: $(TEST_STAMP) ## create .venv and install the portal with its test tools

run: $(RUN_STAMP) ## migrate, load demo data on first run, serve http://127.0.0.1:8000 (PORT, HOST, DATABASE_URL honoured)
	@$(BIN)/portal migrate
	@$(BIN)/portal load-demo --if-empty
	@$(BIN)/portal serve

chromium: ## make sure Debian's Chromium is there for the browser tests
	@bash scripts/ensure-chromium.sh

test: $(TEST_STAMP) chromium ## the whole suite on SQLite (and on PostgreSQL too when TEST_POSTGRES_URL is set)
	$(BIN)/pytest
	@if [ -n "$$TEST_POSTGRES_URL" ]; then \
	  echo "== again on PostgreSQL =="; \
	  TEST_DATABASE_URL="$$TEST_POSTGRES_URL" $(BIN)/pytest -m "not browser"; \
	fi

lint: $(TEST_STAMP) ## ruff (lint and format check), mypy on src/, import-linter (who may import whom)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src
	$(BIN)/lint-imports

format: $(TEST_STAMP) ## ruff format and autofix
	$(BIN)/ruff format src tests
	$(BIN)/ruff check --fix src tests

bench: $(TEST_STAMP) ## benchmarks: the 10,000-connection gate, `portal serve` under wrk, mail throughput (see bench/README)
	@bash scripts/ensure-wrk.sh
	$(BIN)/python -m bench

clean: ## remove the virtual environment and local data under var/
	rm -rf $(VENV) var
