# Python Under the Hood: `make serve` and `make test` are all a newcomer needs.
# Every target sets up .venv on first use and only reinstalls when
# pyproject.toml or constraints.txt change.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Parallel by default: results are identical to a serial run (see tests), only faster.
PYTEST_ARGS ?= -n auto
# The build date MkDocs writes (sitemap.xml) is the last commit's: the same
# commit always builds the same bytes.
export SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null)

.DEFAULT_GOAL := help

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || \
	  { echo "make: the venv needs Python 3.11 or newer; $(PYTHON) is not (try: make PYTHON=python3.12 ...)"; exit 2; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $@

setup: $(STAMP) ## Create .venv and install pinned dependencies

# From Debian: Chromium (browser tests), bubblewrap (the snippet sandbox) and
# hyperfine (make bench). Installed as root, or with sudo where it needs no
# password; otherwise the tests that need them say so by name. (PyPy 3.11 and
# the newer CPythons come from `make pythons`: Debian 12's pypy3 is PyPy 3.9.)
SYSTEM_PACKAGES := $(strip \
  $(if $(or $(SNIPPET_BROWSER),$(wildcard /usr/bin/chromium)),,chromium) \
  $(if $(shell command -v bwrap),,bubblewrap) \
  $(if $(shell command -v hyperfine),,hyperfine))

system-deps:
ifneq ($(SYSTEM_PACKAGES),)
	@if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO=sudo; else SUDO=none; fi; \
	if [ "$$SUDO" != none ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian packages: $(SYSTEM_PACKAGES)"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; \
	else \
	  echo "note: cannot install $(SYSTEM_PACKAGES) (no root, sudo or apt-get): the tests that need them are skipped with the reason"; \
	fi
endif

# The supported interpreters the engine does not find, installed into
# ~/.cache/python-under-the-hood/pythons (SNIPPET_PYTHONS_CACHE) and listed
# with their exact versions: scripts/install_pythons.py. Under CI=true one that
# stays missing is an error; elsewhere the tests that need it skip by name.
PYTHONS_ARGS ?= $(if $(filter 1 true yes,$(CI)),--require)

pythons: $(STAMP) ## Install the supported interpreters that are missing; list them all
	$(BIN)/python scripts/install_pythons.py $(PYTHONS_ARGS)

# The in-browser interpreter of the "Edit and run" panel: Pyodide, pinned in
# tools/pyodide's npm lock, and the engine's REPL driver, copied into
# docs/assets/tryit/ (gitignored) for MkDocs and Zensical to publish as they
# are. Quick when nothing changed; without npm (or offline) it says so and the
# site builds all the same, its panel saying it is not available in this build.
tryit-assets: ## Copy the in-browser interpreter (Pyodide, npm ci) into docs/assets/tryit/
	@sh tools/pyodide/copy-assets.sh

# Never waits for an install: the interpreters already here run the snippets,
# and the build log and the pages name the supported ones it lacks.
serve: $(STAMP) tryit-assets ## Serve the site on http://127.0.0.1:8000 with live reload
	$(BIN)/mkdocs serve --dev-addr 127.0.0.1:8000

build: $(STAMP) tryit-assets ## Strict build into site/
	$(BIN)/mkdocs build --strict

test: $(STAMP) system-deps pythons tryit-assets ## Run the whole suite (snippets, engine, strict build, browser)
	$(BIN)/pytest $(PYTEST_ARGS)

update: $(STAMP) ## Record real outputs into every snippet file (review the diff!)
	$(BIN)/snippets update

interpreters: $(STAMP) ## Show the interpreters the engine found
	$(BIN)/snippets interpreters

repl-check: $(STAMP) ## Type every transcript, and the stdlib's docstring examples, into each interpreter's real REPL
	$(BIN)/python scripts/repl_check.py --corpus snippets --corpus stdlib $(REPL_CHECK_ARGS)

bench: $(STAMP) system-deps ## Time cold/warm/off builds, serve rebuilds and the suite at N=50,200,1000 (JSON)
	$(BIN)/python scripts/bench.py

# Lighthouse, axe-core, links and external requests on every page of the
# strict build, in headless Chromium, offline (the shared tool: its README).
AUDIT ?= ../shared/tools/audit/audit.sh
AUDIT_OUT ?= test-artifacts/audit
AUDIT_ARGS ?=

audit: build ## Audit the built site: Lighthouse, axe, links, requests (report in test-artifacts/audit)
	@test -x $(AUDIT) || { echo "audit: $(AUDIT) not found (the shared folder sits beside this repository)"; exit 2; }
	$(AUDIT) site/ $(AUDIT_OUT) $(AUDIT_ARGS)

.PHONY: audit

lint: $(STAMP) ## ruff and mypy --strict on the engine, tests and scripts
	$(BIN)/ruff check src tests scripts
	$(BIN)/mypy

clean: ## Remove the site, caches and the virtual environment
	rm -rf site .cache test-artifacts .pytest_cache .mypy_cache .ruff_cache $(VENV)

.PHONY: help setup system-deps pythons tryit-assets serve build test update interpreters repl-check bench lint clean
