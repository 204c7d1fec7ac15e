# One entry point for developers and CI: `make test` runs everything.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
VENV := .venv
PY := $(VENV)/bin/python
# A fresh machine may lack system packages; install them only when missing.
APT_GET := DEBIAN_FRONTEND=noninteractive apt-get

.PHONY: test test-core test-sql test-server test-python test-wasm lint bench bench-core demo venv

test: lint test-core test-sql test-server test-python test-wasm

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

test-core:
	cargo test -p coordinate --release

# The SQLite store (sql/): the corpus and the model on SQLite files, the
# differential test against memory, kill -9 and multi-process drills, bad files.
test-sql:
	cargo test -p coordinate-sql --release

# coordinated and the HTTP client (server/): the corpus over HTTP to memory
# test stores and to SQLite test stores, the Go REST protocol, bad input,
# the 1,000-connection load test.
SERVER_TEST_TMP := $(shell mktemp -d -u /tmp/coordinate-server-test.XXXXXX)
test-server:
	cargo test -p coordinate-server --release
	mkdir -p $(SERVER_TEST_TMP)
	COORDINATE_SERVER_TEST_STORE_URL="sqlite://$(SERVER_TEST_TMP)/{name}.db" \
		cargo test -p coordinate-server --release --test conformance
	rm -rf $(SERVER_TEST_TMP)

bench: bench-core

bench-core:
	cargo bench -p coordinate --bench drain

# ---- Python package (python/, pyproject.toml) ----
.PHONY: bench-python bench-stores python-dev coordinated
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

# The daemon the Python tests start themselves for the HTTP stores.
COORDINATED := target/release/coordinated
coordinated:
	cargo build --release -p coordinate-server --bin coordinated

# Every store the Python API and corpus run on besides the constructor and
# memory: (see python/tests/_corpus.py).
PY_STORES := sqlite:///{tmp}/corpus.db,http://{daemon}/?test_store={n},http://{daemon-sqlite}/?test_store={n}

# Conformance corpus, idiomatic, thread and typing tests (stubtest, mypy
# --strict); then the corpus and the API tests on SQLite and over HTTP.
test-python: python-dev coordinated
	$(PY) -m pytest python/tests
	COORDINATE_TEST_URLS="$(PY_STORES)" $(PY) -m pytest -q python/tests/test_conformance.py python/tests/test_api.py

bench: bench-python

bench-python: python-dev
	$(PY) python/benches/bench_drain.py

# SQLite through the Python package, 1 and 4 processes, beside SqliteHuey
# and litequeue (installed into the venv here, not for the tests).
bench: bench-stores
bench-stores: python-dev
	$(PY) -m pip install -q huey litequeue
	$(PY) python/benches/bench_stores.py

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
	wasm/tests/simulation.test.mjs wasm/tests/browser.test.mjs wasm/tests/rules.test.mjs \
	wasm/tests/capacity.test.mjs

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
