# aigov: `make demo` runs the product locally, `make test` runs every check.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BINENV := $(VENV)/testbin.env
PEERENV := $(VENV)/peers.env
# Every recipe that needs a real server binary sources the paths hack/testbin printed.
WITH_BINS := source $(BINENV) &&
PYTEST_ARGS ?=
FUZZ_SECONDS ?= 30

.PHONY: help venv bin peers lint policy-check pytest fuzz test demo bench crds clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

venv: $(VENV)/.installed ## create .venv with aigov and its dev tools

# Always re-run: it only checks the cache when everything is there, and a stale
# file would point at binaries that are gone.
bin: ## build/install the pinned real servers (kube-apiserver, etcd, OPA, Helm, Prometheus)
	@mkdir -p $(VENV)
	hack/testbin --env > $(BINENV).tmp && mv $(BINENV).tmp $(BINENV)

peers: ## build the benchmark peers (Gatekeeper, Kyverno, vegeta) from Go modules; only `make bench` needs them
	@mkdir -p $(VENV)
	hack/peers --env > $(PEERENV).tmp && mv $(PEERENV).tmp $(PEERENV)

lint: venv ## ruff, mypy and the import contracts (layers)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

policy-check: bin ## opa fmt, opa check --strict, opa test with coverage gate
	$(WITH_BINS) hack/policy-check

pytest: venv bin ## unit, integration and e2e tests against the real servers
	$(WITH_BINS) $(VENV)/bin/pytest -m "not peers" $(PYTEST_ARGS)

# New units go to a scratch directory, so the committed seed corpus stays as it is;
# a crash leaves its input as fuzz/crash-* to reproduce with `$(PY) fuzz/fuzz_review.py fuzz/crash-*`.
fuzz: venv ## a short coverage-guided fuzzing run (atheris) of the review parser and the input builder
	units=$$(mktemp -d) && trap 'rm -rf "$$units"' EXIT && \
	$(PY) fuzz/fuzz_review.py "$$units" fuzz/corpus/review -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
		-artifact_prefix=fuzz/ -print_final_stats=1

test: lint policy-check pytest fuzz ## everything CI runs

demo: venv bin ## a local control plane with aigov admitting and denying real deployments
	$(WITH_BINS) $(PY) -m devkit.demo

bench: venv bin peers ## the peers' tests, then benchmarks vs Gatekeeper, a native policy and Kyverno, detection on tests/corpus (long; JSON in bench/results/)
	$(WITH_BINS) source $(PEERENV) && export PYTHONPATH=$(CURDIR); $(VENV)/bin/pytest -m peers tests/integration || exit 1; \
	for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done; \
	for b in bench/webhook_peers.py bench/apiserver_peers.py; do echo "== $$b (Gatekeeper running aigov's decision)"; \
	$(PY) $$b --gatekeeper-policy full || exit 1; done; \
	echo "== bench/scale.py --paired 10,10000"; $(PY) bench/scale.py --paired 10,10000; \
	echo "== with Kyverno"; $(PY) bench/apiserver_peers.py --modes none,aigov,gatekeeper,vap,kyverno && \
	$(PY) bench/webhook_peers.py --peers gatekeeper,kyverno

crds: venv ## regenerate crds/ from the pydantic models
	$(VENV)/bin/aigov crd --out crds

clean: ## remove the virtualenv and caches (the binary cache stays in ~/.cache/aigov)
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
