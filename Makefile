# ai-practice: one Makefile for every package. `make help` lists the targets.
# Every target runs `make setup` first when .venv is missing or older than pyproject.toml/constraints.

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
CONSTRAINTS := requirements/constraints.txt
SETUP_STAMP := $(VENV)/.setup-stamp
RUNS ?= runs

# Overridable knobs (make train-gpt DEVICE=cuda CONFIG=gpt_from_scratch/configs/shakespeare_char_gpu.json).
DEVICE ?= auto
CONFIG ?=
PROMPT ?= ROMEO:
MAX_NEW_TOKENS ?= 500
GPT_OUT ?= $(RUNS)/gpt/shakespeare-char
THREADS ?=
CIFAR10_MODEL ?= fast
CIFAR10_OUT ?= $(RUNS)/cifar10/$(CIFAR10_MODEL)
PYTEST_ARGS ?=
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2

.DEFAULT_GOAL := help
.PHONY: help setup test lint demo clean \
	prepare-gpt train-gpt sample-gpt bench-gpt demo-gpt scaling-gpt rlvr-gpt \
	train-cifar10 evaluate-cifar10 export-cifar10 bench-cifar10 demo-cifar10 \
	serve-face-api bench-face-api demo-face-api \
	serve-face-login train-facenet bench-face-login demo-face-login

help: ## List the targets with one line each
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  %-18s %s\n", $$1, $$2}'

$(SETUP_STAMP): pyproject.toml $(CONSTRAINTS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -c $(CONSTRAINTS) -e '.[all]'
	touch $@

setup: $(SETUP_STAMP) ## Create .venv and install every package with the pinned constraints

test: $(SETUP_STAMP) ## Run the whole pytest suite (about 10 minutes on 2 CPU cores)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(SETUP_STAMP) ## Check style with ruff
	$(PY) -m ruff check practicekit gpt_from_scratch cifar10 face_api face_login tests bench

demo: $(SETUP_STAMP) ## Run each package's main job on real data with a small budget
	$(MAKE) demo-gpt demo-cifar10 demo-face-api demo-face-login
	@echo "demo outputs are under $(RUNS)/"

clean: ## Remove runs/ and caches (keeps .venv and the asset cache)
	rm -rf $(RUNS) .pytest_cache .ruff_cache

# ---------------------------------------------------------------- gpt_from_scratch

prepare-gpt: $(SETUP_STAMP) ## Tokenize Tiny Shakespeare (character level) into train/val files
	$(PY) -m gpt_from_scratch prepare --dataset shakespeare --tokenizer char --out $(RUNS)/gpt/data/shakespeare-char

train-gpt: prepare-gpt ## Train the GPT on Tiny Shakespeare (CONFIG=, DEVICE=, GPT_OUT=, THREADS=)
	$(PY) -m gpt_from_scratch train --data $(RUNS)/gpt/data/shakespeare-char --out $(GPT_OUT) \
		--device $(DEVICE) $(if $(CONFIG),--config $(CONFIG)) $(if $(THREADS),--threads $(THREADS))

sample-gpt: $(SETUP_STAMP) ## Generate text from the trained GPT (PROMPT=, MAX_NEW_TOKENS=, GPT_OUT=, THREADS=)
	$(PY) -m gpt_from_scratch sample --checkpoint $(GPT_OUT) --prompt "$(PROMPT)" \
		--max-new-tokens $(MAX_NEW_TOKENS) --device $(DEVICE) $(if $(THREADS),--threads $(THREADS))

bench-gpt: $(SETUP_STAMP) ## Benchmark training speed, KV-cache sampling, BPE encoding, and MoE against dense
	$(PY) bench/gpt_train_speed.py
	$(PY) bench/gpt_kv_cache.py
	$(PY) bench/gpt_bpe_speed.py
	$(PY) bench/gpt_moe.py

demo-gpt: prepare-gpt ## Short GPT run on Tiny Shakespeare, then a sample
	$(PY) -m gpt_from_scratch train --data $(RUNS)/gpt/data/shakespeare-char --out $(RUNS)/demo/gpt \
		--device $(DEVICE) --max-iters 300 --eval-interval 100
	$(PY) -m gpt_from_scratch sample --checkpoint $(RUNS)/demo/gpt --prompt "$(PROMPT)" --max-new-tokens 200
	@echo "gpt demo outputs: $(RUNS)/demo/gpt (more text: make sample-gpt GPT_OUT=$(RUNS)/demo/gpt)"

scaling-gpt: prepare-gpt ## Fit L(N) = E + A/N^alpha to 5 GPT sizes (SCALING_PRESET=cpu|gpu|quick, THREADS=; ~18 min)
	$(PY) -m gpt_from_scratch scaling --data $(RUNS)/gpt/data/shakespeare-char --out $(RUNS)/gpt/scaling \
		--device $(DEVICE) $(if $(SCALING_PRESET),--preset $(SCALING_PRESET)) $(if $(THREADS),--threads $(THREADS))

rlvr-gpt: $(SETUP_STAMP) ## RLVR: pre-train a GPT on two-digit addition, fine-tune it with GRPO, plot the reward
	$(PY) -m gpt_from_scratch rlvr --out $(RUNS)/gpt/rlvr --device $(DEVICE)

# ---------------------------------------------------------------- cifar10

train-cifar10: $(SETUP_STAMP) ## Train a CIFAR-10 classifier (CIFAR10_MODEL=cnn|resnet|fast, EPOCHS=)
	$(PY) -m cifar10 train --model $(CIFAR10_MODEL) --out $(CIFAR10_OUT) $(if $(EPOCHS),--epochs $(EPOCHS))

evaluate-cifar10: $(SETUP_STAMP) ## Evaluate the trained classifier: accuracy, confusion matrix, error grid
	$(PY) -m cifar10 evaluate --run $(CIFAR10_OUT)

export-cifar10: $(SETUP_STAMP) ## Export the trained classifier as SavedModel and .keras
	$(PY) -m cifar10 export --run $(CIFAR10_OUT)

bench-cifar10: $(SETUP_STAMP) ## Benchmark training images/s against a plain Keras script
	$(PY) bench/cifar10_speed.py

demo-cifar10: $(SETUP_STAMP) ## Short CIFAR-10 run on real data, then evaluate and predict
	$(PY) -m cifar10 demo --out $(RUNS)/demo/cifar10

# ---------------------------------------------------------------- face_api

serve-face-api: $(SETUP_STAMP) ## Serve the face API with gunicorn (HOST=, PORT=, WORKERS=)
	$(VENV)/bin/gunicorn --no-control-socket --workers $(WORKERS) --bind $(HOST):$(PORT) 'face_api.server:create_app()'

bench-face-api: $(SETUP_STAMP) ## Benchmark per-image latency (against face_recognition) and HTTP throughput
	$(PY) -m pip install --quiet --no-deps -c $(CONSTRAINTS) face_recognition  # the reference library; its dlib dependency would compile
	$(PY) bench/face_api_latency.py
	$(PY) bench/face_api_http.py

demo-face-api: $(SETUP_STAMP) ## Detect, analyse and annotate the sample face photos
	$(PY) -m face_api demo --out $(RUNS)/demo/face_api

# ---------------------------------------------------------------- face_login

serve-face-login: $(SETUP_STAMP) ## Serve face login with gunicorn (HOST=, PORT=, WORKERS=)
	$(VENV)/bin/gunicorn --no-control-socket --workers $(WORKERS) --bind $(HOST):$(PORT) 'face_login.server:create_app()'

train-facenet: $(SETUP_STAMP) ## Fine-tune FaceNet with triplet loss on a class-folder dataset (DATASET=)
	$(PY) -m face_login train $(if $(DATASET),--dataset $(DATASET)) --out $(RUNS)/facenet

bench-face-login: $(SETUP_STAMP) ## Benchmark embedding latency, login latency, 1:N search and accuracy
	$(PY) bench/face_login_latency.py
	$(PY) bench/face_login_accuracy.py

demo-face-login: $(SETUP_STAMP) ## Enrol and identify the sample identities, write the ROC curve
	$(PY) -m face_login demo --out $(RUNS)/demo/face_login
