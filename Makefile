# Two commands do everything on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
STOREFRONT_INSTALLED := storefront/node_modules/.installed
FEEDS ?= sample_feeds
DATA ?= .data
SEED ?= 42
HOST ?= 127.0.0.1
PORT ?= 8000
export HF_HUB_OFFLINE := 1
# Tools a step starts by name (ray, python in `ray job submit`) come from the venv.
export PATH := $(abspath $(VENV))/bin:$(PATH)
export RAY_AUTH_MODE := disabled
export RAY_USAGE_STATS_ENABLED := 0
LLAMA_WHEELS ?= $(HOME)/.cache/ysh-platform/wheels
LLAMA_CPP_VERSION := $(shell sed -n 's/^llama[-_]cpp[-_]python==//p' constraints.txt)

.PHONY: install run run-storefront test test-fast lint bench bench-scale eval loadtest sample clean

$(INSTALLED): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# llama.cpp is compiled here (≈7 min on 2 cores), once, into a wheel kept under ~/.cache: for any x86-64
	# with AVX2, not -march=native, whose AVX-512/AMX code crashed in a VM whose CPU reports AMX.
	@ls $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_CPP_VERSION)-*.whl >/dev/null 2>&1 || \
	  CMAKE_ARGS="-DGGML_NATIVE=OFF" $(PY) -m pip wheel -q --no-deps --no-binary llama-cpp-python \
	    --no-cache-dir -w $(LLAMA_WHEELS) llama-cpp-python==$(LLAMA_CPP_VERSION)
	# Everything else from the package index (PyPI alone will do) at the lock's versions; torch==2.13.0 also
	# takes a CPU-only 2.13.0+cpu where pip is offered one (README: "On a laptop without this machine's wheels").
	$(PY) -m pip install -q --find-links $(LLAMA_WHEELS) -c constraints.txt -e '.[dev]'
	# promtool (Debian's prometheus package) runs the alert rules' unit tests; only root installs it, and
	# the package's own server is not wanted: disabled where systemd started it.
	@if ! command -v promtool >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus \
	      && { systemctl disable --now prometheus >/dev/null 2>&1 || true; }; } \
	    || echo "note: installing promtool failed: tests/deploy/test_alert_rules.py's promtool tests will skip"; \
	  else \
	    echo "note: promtool not found and not root: tests/deploy/test_alert_rules.py's promtool tests will skip"; \
	  fi; \
	fi
	@touch $@

## The GPU image's lock (Dockerfile.gpu): Linux x86-64, Python 3.11, the gpu extra, from PyPI whatever this
## machine's pip config says (uv reads none of it). uv keeps the versions already in the file while they
## still fit, so a rerun changes only what pyproject.toml made change; drop a line to let that package move.
.PHONY: lock-gpu
lock-gpu: $(INSTALLED)
	$(VENV)/bin/uv pip compile --system-certs --python-platform x86_64-manylinux_2_28 --python-version 3.11 \
	  --extra gpu --no-emit-package pip pyproject.toml -o constraints-gpu.txt

install: $(INSTALLED)

## PRODUCTS=N: a catalog of N products (any size; the default is the full sample), e.g.
## `make sample FEEDS=/tmp/feeds-1m PRODUCTS=1000000`.
$(FEEDS)/.complete: | $(INSTALLED)
	$(PY) -m samples.feeds --out $(FEEDS) --seed $(SEED) $(if $(PRODUCTS),--products $(PRODUCTS))
	@touch $@

sample: $(FEEDS)/.complete

## Embedded Postgres, local Ray and the Qdrant Edge index; catalog ETL, embedding, then the API.
run: $(INSTALLED) $(FEEDS)/.complete
	HOST=$(HOST) PORT=$(PORT) FEEDS_URI=$(FEEDS) $(PY) -m ray_jobs.local_stack

## The storefront to browse: a local Medusa (storefront/) on 127.0.0.1:$(MEDUSA_PORT) with the catalog published
## (loaded first when it is empty); prints the Store API's URL and publishable key; Ctrl-C stops it.
MEDUSA_PORT ?= 9000
run-storefront: $(INSTALLED) $(FEEDS)/.complete $(STOREFRONT_INSTALLED)
	MEDUSA_PORT=$(MEDUSA_PORT) FEEDS_URI=$(FEEDS) $(PY) -m ray_jobs.storefront_local

## The end-to-end test runs apart: its stack starts a local Ray of its own, whose dashboard agent cannot
## bind its fixed port (52365) while the suite's Ray holds it.
test: lint $(STOREFRONT_INSTALLED)
	$(PY) -m pytest -p no:cacheprovider --timeout=900 -m "not e2e"
	$(PY) -m pytest -p no:cacheprovider --timeout=900 -m e2e

## The GPU checks, apart from the CPU suite, on a machine with an NVIDIA GPU: a virtualenv of their own
## (.venv-gpu) with the gpu extra at its lock (constraints-gpu.txt: vLLM and its CUDA torch) and pytest at
## constraints.txt's pin, then tests/gpu/: MiniLM on CUDA (vectors equal to the CPU's, texts/s) and vLLM
## through ray.serve.llm (answers, streaming, the keyed ingress, first-token time and tokens/s). GPU_MODEL is
## a small instruct model in Hugging Face format: a local folder, or an id already in the Hugging Face cache
## (nothing downloads here). Without a GPU it says so and does nothing.
GPU_VENV ?= .venv-gpu
GPU_MODEL ?= Qwen/Qwen2.5-0.5B-Instruct
PYTEST_VERSION := $(shell sed -n 's/^pytest==//p' constraints.txt)
.PHONY: test-gpu
test-gpu:
	@if ! nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then \
	  echo "make test-gpu: no NVIDIA GPU on this machine (nvidia-smi lists none), so nothing to run: tests/gpu/ needs one. The CPU suite is make test."; \
	  exit 0; \
	fi; \
	set -e; \
	test -x $(GPU_VENV)/bin/python || $(PYTHON) -m venv $(GPU_VENV); \
	$(GPU_VENV)/bin/python -m pip install -q --upgrade pip; \
	$(GPU_VENV)/bin/python -m pip install -q -c constraints-gpu.txt -e '.[gpu]' pytest==$(PYTEST_VERSION); \
	HELIO_VLLM_TEST_MODEL=$(GPU_MODEL) $(GPU_VENV)/bin/python -m pytest -p no:cacheprovider -m gpu -s tests/gpu

## The storefront's Medusa server (storefront/): its npm packages at the lock's versions, once per lock
## (≈1.5 min and ≈680 MB the first time; npm keeps its download cache). Without npm the storefront tests skip.
$(STOREFRONT_INSTALLED): storefront/package.json storefront/package-lock.json
	@if command -v npm >/dev/null; then \
	  npm ci --prefix storefront --no-audit --no-fund --loglevel=error && touch $@; \
	else \
	  echo "note: npm not found: the storefront (Medusa) tests will skip; install Node.js 20+ to run them"; \
	fi

## Unit tests only, for the edit-test loop (≈30 s here): no Ray, Postgres, S3, Kafka or model weights. A
## test using a service fixture is marked slow (tests/conftest.py); one that starts a service otherwise fails.
test-fast: $(INSTALLED)
	UNIT_TESTS_ONLY=1 $(PY) -m pytest -p no:cacheprovider -m "not slow and not e2e and not gpu" -x

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-logo --no-cache

bench: $(INSTALLED) $(FEEDS)/.complete
	$(PY) -m scripts.bench --feeds $(FEEDS)

## The catalog ETL, the embedding job, the index on disk and search at SIZES products (default 100000 and
## 1000000, after the default sample as the baseline); STEPS="etl" to leave out embed and search, which take
## hours at a million products on a CPU. Not in CI; feeds and data kept under ~/.cache/ysh-platform.
bench-scale: $(INSTALLED)
	$(PY) -m scripts.bench_scale --sizes $(or $(SIZES),100000 1000000) $(if $(STEPS),--steps $(STEPS))

## One JSON object: "search", catalog search's nDCG@10 and P@5 on catalog/eval/relevance.yaml over the sample
## feeds (dev and test apart; targets on test), and "ask", Hélio's retrieval hit rate at 5 and cited share on
## rag/eval/questions.yaml (ENGINE=llama_cpp to generate, SPLIT=dev|all). Each builds its scratch catalog.
eval: $(INSTALLED) $(FEEDS)/.complete
	@search=$$($(PY) -m scripts.eval_search --feeds $(FEEDS)) && \
	  ask=$$($(PY) -m scripts.eval_ask --engine $(or $(ENGINE),extractive) --split $(or $(SPLIT),test)) && \
	  $(PY) -c 'import json, sys; print(json.dumps({"search": json.loads(sys.argv[1]), "ask": json.loads(sys.argv[2])}, indent=2, ensure_ascii=False))' "$$search" "$$ask"

## Load test of a running API (`make run` first): locust headless, 127.0.0.1 only, bounded in time.
loadtest: $(INSTALLED)
	$(PY) -m scripts.loadtest --host http://$(HOST):$(PORT) --duration $(or $(DURATION),60s) --users $(or $(USERS),20)

## Refuses while a Postgres runs on the data: its files would be deleted from under a live server, which
## then fails in odd ways and keeps running. Stop `make run` (Ctrl-C) first.
clean:
	@if pid=$$(head -1 $(DATA)/postgres/postmaster.pid 2>/dev/null) && kill -0 "$$pid" 2>/dev/null; then \
	  echo "make clean: Postgres (pid $$pid) is running on $(DATA)/postgres; stop make run (Ctrl-C) first" >&2; \
	  exit 1; \
	fi
	rm -rf $(DATA) $(FEEDS)
