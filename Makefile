# clapemo: the Makefile is the pipeline. `make help` lists the targets.
#   make reproduce   set up, generate the synthetic benchmark, run the notebooks, build the book (progress on
#                    the terminal: each notebook's steps, the trainings done of all, an ETA)
#   make lab         edit the notebooks in JupyterLab
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
DATA        ?= data
NUMERICS    ?= portable# portable: the same bits on any x86-64 CPU with AVX2 | fast: bfloat16, this machine's bits only
PYTEST_ARGS ?=

STAMP       := $(dir $(PYTHON)).clapemo-installed
# where `make reproduce` records each step's wall time (clapemo.book.timings reads it; `make bench` prints it)
TIMINGS     := book/executed/.timings.tsv
record_time = mkdir -p $(dir $(TIMINGS)) && printf '%s\t%s\t%s\n' '$(1)' "$$(( $$(date +%s) - $(2) ))" \
              "$$(date -u +%Y-%m-%dT%H:%M:%SZ)" >> $(TIMINGS)
RUN_ENV     := HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYDEVD_DISABLE_FILE_VALIDATION=1 \
               CLAPEMO_NUMERICS=$(strip $(NUMERICS))

.PHONY: help setup test test-all reproduce book check-book lab bench clean verify publish portability

help: ## list the targets
	@echo "clapemo - reproducible companion to arXiv 2310.02298"
	@echo
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-12s %s\n", $$1, $$2}'
	@echo
	@echo "knobs: PROFILE=$(strip $(PROFILE)) SEED=$(SEED) DEVICE=$(strip $(DEVICE)) NUMERICS=$(strip $(NUMERICS)) SET='$(strip $(SET))' PYTHON=$(strip $(PYTHON)) TORCH_SPEC='$(strip $(TORCH_SPEC))'"

$(VENV)/bin/python:
	python3 -m venv $(VENV)

# the pinned versions of every package (the book's environment); LOCK= installs pyproject's unpinned ranges
LOCK        ?= requirements.lock
PIN         := $(if $(strip $(LOCK)),-c $(strip $(LOCK)))

$(STAMP): pyproject.toml $(strip $(LOCK)) | $(if $(filter $(VENV)/bin/python,$(strip $(PYTHON))),$(VENV)/bin/python)
	@date +%s > $@.start
	$(PYTHON) -m pip install --quiet --upgrade pip $(PIN)
	$(PYTHON) -m pip install --quiet '$(strip $(TORCH_SPEC))' $(PIN)
	$(PYTHON) -m pip install --quiet -e '.[all]' $(PIN)
	@$(call record_time,setup,$$(cat $@.start)) && rm -f $@.start
	touch $@

setup: $(STAMP) ## create .venv: torch first, then `pip install -e .[all]`, pinned by requirements.lock (LOCK= unpinned); PYTHON=... uses an existing env

.PHONY: lock
lock: $(STAMP) ## pin this env's package versions into requirements.lock (after changing pyproject's extras)
	$(RUN_ENV) $(PYTHON) -m clapemo doctor --write-lock $(or $(strip $(LOCK)),requirements.lock)
	@touch $(STAMP)

test: setup ## run the tests (slow ones excluded)
	$(RUN_ENV) $(PYTHON) -m pytest -q $(PYTEST_ARGS)

test-all: setup ## run every test, slow ones included
	$(RUN_ENV) $(PYTHON) -m pytest -q -m "" $(PYTEST_ARGS)

# ---- the pipeline: synthetic data -> executed notebooks (papermill) -> book (jupyter-book) --------------------
# File targets, so a re-run with nothing changed does nothing. Any change to the library, a config, a notebook
# or a knob (PROFILE, SEED, DEVICE, SET, DATA) re-runs the notebooks; trained runs and results are cached by
# config hash (runs/), features and embeddings per clip (data/cache/), so a re-run only recomputes what changed.
# SET: overlay files (*.yaml, only the keys they change) and section.key=value overrides for every notebook, e.g.
# SET="my.yaml train.epochs=3"; the layering is clapemo.config.resolve_config's, so `make reproduce SET=my.yaml`
# and `clapemo experiment figure2 --overlay my.yaml` give the same config hash.
SET         ?=
SET_FILES   := $(abspath $(filter %.yaml %.yml,$(SET)))
# fast numerics also ask for the bfloat16 paths (clapemo.numerics)
SET_ITEMS   := $(filter-out %.yaml %.yml,$(SET)) $(if $(filter fast,$(strip $(NUMERICS))),\
               encoders.whisper_precision=bfloat16 train.precision=bfloat16)
NOTEBOOKS   := $(sort $(wildcard notebooks/[0-9]*.ipynb))
EXECUTED    := $(patsubst notebooks/%,book/executed/%,$(NOTEBOOKS))
LIBRARY     := $(wildcard clapemo/*.py clapemo/*/*.py clapemo/*.yaml) $(wildcard configs/*.yaml)
PARAMS      := book/executed/.params
SYNTH_STAMP := $(DATA)/synth/$(strip $(PROFILE))/.make-stamp
BOOK_SRC    := book/_config.yml book/_toc.yml $(wildcard book/*.md) $(wildcard book/_static/*)
BOOK_HTML   := book/_build/html/index.html
REPORT_HTML := book/_build/html/executed/05_report.html
SCREENSHOT  := book/screenshot.png
SHOT_SIZE   ?= --width 1400 --height 6000# the report page down to its claims table
BIN         := $(dir $(strip $(PYTHON)))
# `clapemo book run`: papermill with the `python3` kernel of this interpreter, kernel cwd the project root; the
# notebook's steps and progress bars go to this terminal, never into the executed notebook
BOOK_RUN    := $(RUN_ENV) $(PYTHON) -m clapemo book run \
               -p profile $(strip $(PROFILE)) -p seed $(SEED) -p device $(strip $(DEVICE)) -p output_dir runs/results \
               -r overlays "$(SET_FILES)" -r overrides "data.synth_root=$(DATA)/synth $(strip $(SET_ITEMS))"
# the synthetic benchmark only when a notebook's config reads it: asked (clapemo book needs-synth) only when SET
# could switch the data source (an overlay file or a data.source item); a failed query means "yes"
NEEDS_SYNTH := $(if $(SET_FILES)$(findstring data.source,$(SET_ITEMS)),$(shell $(RUN_ENV) $(PYTHON) -m clapemo \
               book needs-synth $(NOTEBOOKS) --profile $(strip $(PROFILE)) $(foreach f,$(SET_FILES),--overlay '$(f)') \
               $(foreach s,$(SET_ITEMS),--set '$(s)') 2>/dev/null),yes)
SYNTH_DEP   := $(if $(filter no,$(NEEDS_SYNTH)),,$(SYNTH_STAMP))
SUDO        := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: data notebooks FORCE

reproduce: reproduce-start setup ## set up, generate the synthetic benchmark, run the notebooks, build the book (PROFILE=, DEVICE=, SET=)
	@$(MAKE) --no-print-directory book
	@$(call record_time,make reproduce,$$(cat $(TIMINGS).start)) && rm -f $(TIMINGS).start
	@echo
	@echo "Done. Open the report: file://$(abspath $(BOOK_HTML))"
	@echo "  (reproduction report: file://$(abspath $(REPORT_HTML)))"

# opens the run's lines in $(TIMINGS) (before setup, so that the run's wall time includes it)
.PHONY: reproduce-start
reproduce-start:
	@mkdir -p $(dir $(TIMINGS)) && date +%s > $(TIMINGS).start && $(call record_time,start,$$(date +%s))

# the knobs the notebooks depend on, rewritten only when they change (so that a change re-runs them)
$(PARAMS): FORCE
	@mkdir -p $(@D)
	@echo "PROFILE=$(strip $(PROFILE)) SEED=$(SEED) DEVICE=$(strip $(DEVICE)) DATA=$(DATA) SET=$(strip $(SET)) NUMERICS=$(strip $(NUMERICS))" \
	  | cmp -s - $@ || echo "PROFILE=$(strip $(PROFILE)) SEED=$(SEED) DEVICE=$(strip $(DEVICE)) DATA=$(DATA) SET=$(strip $(SET)) NUMERICS=$(strip $(NUMERICS))" > $@

data: $(SYNTH_STAMP) ## generate the synthetic benchmark (data/synth/PROFILE; skips finished corpora)

$(SYNTH_STAMP): $(wildcard clapemo/synth/*.py) $(PARAMS) | $(STAMP)
	@echo "== clapemo synth --profile $(strip $(PROFILE)) --seed $(SEED) -o $(DATA)/synth"
	@start=$$(date +%s); $(RUN_ENV) $(PYTHON) -m clapemo synth --profile $(strip $(PROFILE)) --seed $(SEED) \
	  -o $(DATA)/synth --quiet && $(call record_time,synthetic benchmark,$$start)
	@echo "seed $(SEED)" > $@

notebooks: $(EXECUTED) ## run the notebooks with papermill into book/executed/

book/executed/%.ipynb: notebooks/%.ipynb $(SYNTH_DEP) $(PARAMS) $(LIBRARY) | $(STAMP)
	@mkdir -p $(@D)
	@echo "== $< -> $@$(if $(SYNTH_DEP),, (no synthetic benchmark: the configs read data.source real))"
	@start=$$(date +%s); $(BOOK_RUN) $< $@ && echo "   $@: $$(( $$(date +%s) - start )) s" \
	  && $(call record_time,$*,$$start)

# searching your own audio needs the Table 3 runs (pa, cl, 4d)
book/executed/07_search_your_audio.ipynb: book/executed/02_ear_table.ipynb
# chapter 6's baselines are Figure 2's runs: train them there first
book/executed/06_extensions.ipynb: book/executed/04_prompt_analysis.ipynb

# the report reads the results the three experiment chapters computed: run it after them
book/executed/05_report.ipynb: book/executed/02_ear_table.ipynb book/executed/03_ser_table.ipynb \
                               book/executed/04_prompt_analysis.ipynb

book: $(BOOK_HTML) ## build the book from the executed notebooks (runs what is missing; jupyter-book, strict)

$(BOOK_HTML): $(EXECUTED) $(BOOK_SRC) | $(STAMP)
	@echo "== jupyter-book build book/ --warningiserror --keep-going --quiet"
	@start=$$(date +%s); $(RUN_ENV) $(BIN)jupyter-book build book/ --warningiserror --keep-going --quiet \
	  && touch $@ && $(call record_time,book build,$$start)

check-book: book ## check the built book (pages, figures, each chapter's first screen, source lines; shots in book/_build/first-screens), screenshot the report
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || [ -n "$$CHROMIUM" ] \
	  || { echo "installing chromium (Debian package) for the first-screen check and the screenshot"; \
	       $(SUDO) apt-get install -y chromium || { $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium; }; }
	$(RUN_ENV) $(PYTHON) -m clapemo book check book/_build/html --shots book/_build/first-screens
	$(PYTHON) -m clapemo book screenshot $(REPORT_HTML) $(SCREENSHOT) $(SHOT_SIZE)

lab: setup ## open JupyterLab on the notebooks (its kernels get the portable-numerics pins)
	eval "$$($(RUN_ENV) $(PYTHON) -m clapemo doctor --env)" && $(RUN_ENV) $(BIN)jupyter lab notebooks/

verify: setup ## compare the built results (runs/results) with the published ones, number by number
	$(RUN_ENV) $(PYTHON) -m clapemo verify --results-dir runs/results

publish: setup ## write published/default.json from the built results (after a fresh make reproduce)
	$(RUN_ENV) $(PYTHON) -m clapemo verify --write --results-dir runs/results

portability: setup ## run a micro slice natively and on an emulated Haswell (qemu-user), compare the bits
	@command -v qemu-x86_64 >/dev/null 2>&1 || { echo "installing qemu-user (Debian package) for the emulated CPU"; \
	  $(SUDO) apt-get install -y qemu-user || { $(SUDO) apt-get update && $(SUDO) apt-get install -y qemu-user; }; }
	$(RUN_ENV) $(PYTHON) -m clapemo portability --cpu Haswell

bench: setup ## run the benchmarks (speed ratios, printed)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(RUN_ENV) $(PYTHON) $$b || exit 1; done

clean: ## remove built book, executed notebooks and runs (keeps data/ and .venv)
	rm -rf book/_build book/executed runs
