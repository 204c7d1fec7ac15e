# One entry point for developers and CI: `make test` runs everything.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
VENV := .venv
PY := $(VENV)/bin/python
# A fresh machine may lack system packages; install them only when missing.
APT_GET := DEBIAN_FRONTEND=noninteractive apt-get

.PHONY: test test-core test-python test-wasm lint bench bench-core demo venv

test: lint test-core test-python test-wasm

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

test-core:
	cargo test -p coordinate --release

bench: bench-core

bench-core:
	cargo bench -p coordinate --bench drain

# ---- Python package (python/, pyproject.toml) ----
.PHONY: bench-python python-dev
PY_REQS := python/requirements-dev.txt
MATURIN_ENV := VIRTUAL_ENV=$(CURDIR)/$(VENV) PATH=$(CURDIR)/$(VENV)/bin:$$PATH

# The repo's virtualenv with the pinned dev tools (python3-venv installed if missing).
venv: $(VENV)/.dev-installed

$(VENV)/.dev-installed: $(PY_REQS)
	@if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then \
		echo "python3-venv is missing; installing it"; \
		$(APT_GET) update && $(APT_GET) install -y --no-install-recommends python3-venv; \
	fi
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r $(PY_REQS)
	touch $@

# Builds the extension (release) into .venv, editable.
python-dev: venv
	$(MATURIN_ENV) $(VENV)/bin/maturin develop --release

# Conformance corpus, idiomatic, thread and typing tests (stubtest, mypy --strict).
test-python: python-dev
	$(PY) -m pytest python/tests

bench: bench-python

bench-python: python-dev
	$(PY) python/benches/bench_drain.py

# ---- The README's main job: the word count pipeline (examples/wordcount) ----
# Builds the package into .venv (with PyYAML and rich), then runs the flow with
# the `coordinate` command: live progress on a terminal, plain lines otherwise,
# then the summary table and the result (the most common words).
demo: python-dev
	$(VENV)/bin/coordinate run examples/wordcount/flow.yaml --workers 4
