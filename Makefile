# clapemo: the Makefile is the pipeline. `make help` lists the targets.
#   make reproduce   set up, generate the synthetic benchmark, run the notebooks, build the book
#   make test        run the test suite (slow tests excluded)

.DELETE_ON_ERROR:
.DEFAULT_GOAL := help
SHELL := /bin/bash

# ---- knobs (override on the command line: make reproduce PROFILE=tiny DEVICE=cuda) ----------------------------
VENV        ?= .venv
TORCH_SPEC  ?= torch==2.13.0# another build, e.g. 'torch>=2.6,<2.15' (may download a CUDA build)
PYTHON      ?= $(VENV)/bin/python# or the python of an existing env: make setup PYTHON=$$CONDA_PREFIX/bin/python
PROFILE     ?= default# synthetic benchmark size: tiny | default | large
SEED        ?= 0
DEVICE      ?= auto# auto | cpu | cuda
CONFIG      ?= configs/base.yaml
DATA        ?= data
PYTEST_ARGS ?=

STAMP       := $(dir $(PYTHON)).clapemo-installed
RUN_ENV     := HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYDEVD_DISABLE_FILE_VALIDATION=1

.PHONY: help setup test test-all reproduce book check-book lab bench clean

help: ## list the targets
	@echo "clapemo - reproducible companion to arXiv 2310.02298"
	@echo
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-12s %s\n", $$1, $$2}'
	@echo
	@echo "knobs: PROFILE=$(strip $(PROFILE)) SEED=$(SEED) DEVICE=$(strip $(DEVICE)) CONFIG=$(CONFIG) PYTHON=$(strip $(PYTHON)) TORCH_SPEC='$(strip $(TORCH_SPEC))'"

$(VENV)/bin/python:
	python3 -m venv $(VENV)

$(STAMP): pyproject.toml | $(if $(filter $(VENV)/bin/python,$(strip $(PYTHON))),$(VENV)/bin/python)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet '$(strip $(TORCH_SPEC))'
	$(PYTHON) -m pip install --quiet -e '.[all]'
	touch $@

setup: $(STAMP) ## create .venv (torch first, then `pip install -e .[all]`); PYTHON=... uses an existing env

test: setup ## run the tests (slow ones excluded)
	$(RUN_ENV) $(PYTHON) -m pytest -q $(PYTEST_ARGS)

test-all: setup ## run every test, slow ones included
	$(RUN_ENV) $(PYTHON) -m pytest -q -m "" $(PYTEST_ARGS)

# ---- the pipeline ----------------------------------------------------------------------------------------------
BOOK_HTML := book/_build/html/index.html

reproduce: setup ## run everything on the synthetic benchmark and build the book
	$(MAKE) --no-print-directory book
	@echo
	@echo "Done. Open the report: $(abspath $(BOOK_HTML))"

book: setup ## build the book from the executed notebooks (jupyter-book, strict)
	$(RUN_ENV) $(dir $(PYTHON))jupyter-book build book/ --warningiserror --keep-going --quiet

check-book: book ## screenshot the built report with headless Chromium (book/screenshot.png)
	$(PYTHON) -m clapemo.report screenshot book/_build/html/index.html book/screenshot.png

lab: setup ## open JupyterLab on the notebooks
	$(RUN_ENV) $(dir $(PYTHON))jupyter lab notebooks/

bench: setup ## run the benchmarks (speed ratios, printed)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(RUN_ENV) $(PYTHON) $$b || exit 1; done

clean: ## remove built book, executed notebooks and runs (keeps data/ and .venv)
	rm -rf book/_build book/executed runs
