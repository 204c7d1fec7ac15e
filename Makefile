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

# ---- JavaScript package (wasm/, scripts/wasm-*.sh) ----
.PHONY: wasm-toolchain wasm-build
WASM_NPM := wasm/node_modules/.installed
WASM_TESTS := wasm/tests/conformance.mjs wasm/tests/api.test.mjs \
	wasm/tests/simulation.test.mjs wasm/tests/browser.test.mjs wasm/tests/rules.test.mjs

# rustc-web + std source, wasm-ld, wasm-bindgen-cli (.tools/), chromium;
# each part skipped when present.
wasm-toolchain:
	scripts/wasm-toolchain.sh --chromium

# wasm-opt (npm binaryen) and tsc, into the git-ignored wasm/node_modules.
$(WASM_NPM): wasm/package.json wasm/package-lock.json
	cd wasm && npm ci --no-audit --no-fund
	touch $@

# wasm/pkg-node (ESM for Node) and wasm/pkg-web (browsers).
wasm-build: wasm-toolchain $(WASM_NPM)
	scripts/wasm-build.sh

# Conformance corpus in Node and in headless Chromium, idiomatic tests,
# the simulation example twice, and the TypeScript types.
test-wasm: wasm-build
	node --expose-gc --test $(WASM_TESTS)
	wasm/node_modules/.bin/tsc -p wasm/tests/tsconfig.json

bench: bench-wasm

# Drain in Node against native (the core's drain_profile) in the same run.
bench-wasm: wasm-build
	cargo build --release -p coordinate --example drain_profile
	node --expose-gc wasm/bench/drain.mjs
