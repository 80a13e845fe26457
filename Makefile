# Python Under the Hood: `make serve` and `make test` are all a newcomer needs.
# Every target sets up .venv on first use and only reinstalls when
# pyproject.toml or constraints.txt change.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.DEFAULT_GOAL := help

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $@

setup: $(STAMP) ## Create .venv and install pinned dependencies

# PyPy is one more column on the pages and Chromium drives the browser tests.
# Both come from Debian; without root they are reported as skipped, by name.
system-deps:
	@if ! command -v pypy3 >/dev/null || { [ -z "$$SNIPPET_BROWSER" ] && [ ! -x /usr/bin/chromium ]; }; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian packages: pypy3 chromium"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pypy3 chromium >/dev/null; \
	  else \
	    echo "note: pypy3 or chromium missing and not root: those tests will be skipped with the reason"; \
	  fi; \
	fi

serve: $(STAMP) ## Serve the site on http://127.0.0.1:8000 with live reload
	$(BIN)/mkdocs serve --dev-addr 127.0.0.1:8000

build: $(STAMP) ## Strict build into site/
	$(BIN)/mkdocs build --strict

test: $(STAMP) system-deps ## Run the whole suite (snippets, engine, strict build, browser)
	$(BIN)/pytest $(PYTEST_ARGS)

update: $(STAMP) ## Record real outputs into every snippet file (review the diff!)
	$(BIN)/snippets update

interpreters: $(STAMP) ## Show the interpreters the engine found
	$(BIN)/snippets interpreters

lint: $(STAMP) ## ruff and mypy --strict on the engine
	$(BIN)/ruff check src tests
	$(BIN)/mypy

clean: ## Remove the site, caches and the virtual environment
	rm -rf site .cache test-artifacts .pytest_cache .mypy_cache .ruff_cache $(VENV)

.PHONY: help setup system-deps serve build test update interpreters lint clean
