# One entry point for developers and CI: `make test` runs everything.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
VENV := .venv
PY := $(VENV)/bin/python
# A fresh machine may lack system packages; install them only when missing.
APT_GET := DEBIAN_FRONTEND=noninteractive apt-get

.PHONY: test test-core test-sql test-postgres test-server test-python test-wasm lint bench bench-core demo venv

test: lint test-core test-sql test-postgres test-server test-ui test-python test-wasm test-dist

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

test-core:
	cargo test -p coordinate --release

# The SQLite store (sql/): the corpus and the model on SQLite files, the
# differential test against memory, kill -9 and multi-process drills, bad files.
test-sql:
	cargo test -p coordinate-sql --release

# The PostgreSQL store (sql/): a throwaway server (scripts/postgres.sh:
# Debian's postgresql, installed if missing, initdb into .pg/, loopback on a
# free port; or $$COORDINATE_TEST_POSTGRES when set), then on it the corpus,
# the model, the differential test against memory (single operations and
# batches of finishes), 8 worker processes, kill -9 of workers, 3 coordinated daemons
# with one killed, a server restart (own server only), and the server's
# corpus with PostgreSQL test stores (a schema each). The server is stopped
# and deleted at the end, also on failure.
PG_TESTS := --test pg_conformance --test pg_model --test pg_batch --test differential --test pg_processes --test pg_daemons --test pg_restart
test-postgres: coordinated
	url=$$(scripts/postgres.sh start); \
	trap 'scripts/postgres.sh stop' EXIT; \
	ctl=$(CURDIR)/scripts/postgres.sh; \
	if [ -n "$${COORDINATE_TEST_POSTGRES:-}" ]; then ctl=; fi; \
	COORDINATE_TEST_POSTGRES="$$url" COORDINATE_REQUIRE_POSTGRES=1 \
		COORDINATE_TEST_POSTGRES_CTL="$$ctl" \
		cargo test -p coordinate-sql --release $(PG_TESTS); \
	case "$$url" in *\?*) sep='&';; *) sep='?';; esac; \
	COORDINATE_SERVER_TEST_STORE_URL="$$url$${sep}schema=srv-$$$$-{name}" \
		cargo test -p coordinate-server --release --test conformance

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

# The PostgreSQL bench (sql/benches/postgres.rs) on a throwaway server (or
# $$COORDINATE_TEST_POSTGRES): claim cost at 10k and 1M units, drains of
# 20k and 200k units, 1 and 4 processes, batch 1 and 100, finishes in
# their own transaction or paired with the next request, direct and
# through coordinated; then, on the same server, the peer: procrastinate
# (pinned, pip-installed into the venv here, not for the tests) draining 20k
# no-op jobs with 1 worker at concurrency 1 and 4 and with 4 worker
# processes, a fresh database each (python/benches/bench_procrastinate.py).
# Not part of `make bench` (it takes long).
.PHONY: bench-postgres
PROCRASTINATE := 'procrastinate==3.10.0' 'psycopg[binary]==3.3.9'
bench-postgres: coordinated venv
	url=$$(scripts/postgres.sh start); \
	trap 'scripts/postgres.sh stop' EXIT; \
	COORDINATE_TEST_POSTGRES="$$url" cargo bench -p coordinate-sql --bench postgres; \
	$(PY) -m pip install -q --disable-pip-version-check $(PROCRASTINATE); \
	COORDINATE_TEST_POSTGRES="$$url" $(PY) python/benches/bench_procrastinate.py

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
# With a throwaway PostgreSQL (scripts/postgres.sh) for the worker-process
# and admin tests and, in a schema per scenario, the corpus and API tests.
# (The tests see the server's URL from a subshell: set in this shell, it
# would tell the script's `stop` that the server is someone else's.)
test-python: python-dev coordinated
	url=$$(scripts/postgres.sh start); \
	trap 'scripts/postgres.sh stop' EXIT; \
	case "$$url" in *\?*) sep='&';; *) sep='?';; esac; \
	( export COORDINATE_TEST_POSTGRES="$$url" COORDINATE_REQUIRE_POSTGRES=1; \
	$(PY) -m pytest python/tests; \
	COORDINATE_TEST_URLS="$(PY_STORES),$$url$${sep}schema=py-$$$$-{n}" \
		$(PY) -m pytest -q python/tests/test_conformance.py python/tests/test_api.py )

bench: bench-python

bench-python: python-dev
	$(PY) python/benches/bench_drain.py

# SQLite through the Python package, 1 and 4 processes, beside SqliteHuey
# and litequeue (installed into the venv here, not for the tests).
bench: bench-stores
bench-stores: python-dev
	$(PY) -m pip install -q huey litequeue
	$(PY) python/benches/bench_stores.py

# coordinated over HTTP (server/): the Rust client's drain (examples/drain_http),
# then the Python client, 1 and 4 worker processes, to a daemon on memory: and
# on SQLite, beside BullMQ on Redis in the same run (python/benches/bench_http.py).
# BullMQ is npm-installed into the git-ignored server/benches/bullmq/node_modules;
# redis-server (Debian) is installed when missing and started by the script on
# a free loopback port without persistence. Not part of `make test`.
.PHONY: bench-http
BULLMQ_NPM := server/benches/bullmq/node_modules/.installed
$(BULLMQ_NPM): server/benches/bullmq/package.json server/benches/bullmq/package-lock.json
	cd server/benches/bullmq && npm ci --no-audit --no-fund
	touch $@

bench: bench-http
bench-http: python-dev $(BULLMQ_NPM)
	@command -v redis-server >/dev/null || { $(APT_GET) update && $(APT_GET) install -y --no-install-recommends redis-server; }
	cargo build --release -p coordinate-server --bin coordinated --example drain_http
	for w in 1 4; do for m in request-finish finish-request; do \
		target/release/examples/drain_http --units 20000 --workers $$w --batch 1 --mode $$m; done; done
	$(PY) python/benches/bench_http.py

# ---- The README's main job: the word count pipeline (examples/wordcount) ----
# Builds the package into .venv and coordinated, then examples/wordcount/demo.py:
# `coordinate serve` on a SQLite file in a fresh folder, `coordinate load` of the
# flow, `coordinate worker --processes 3 --until-empty`, a real SIGKILL to the
# worker process running a count task, the expiry and the rerun, the status,
# the top words and where the state lives.
demo: python-dev coordinated
	COORDINATED=$(CURDIR)/$(COORDINATED) $(PY) examples/wordcount/demo.py

# ---- Release artifacts (dist/) ----
# The abi3 wheel (maturin), the npm tarball of the Node package (wasm/pkg-node)
# and the coordinated binary; test-dist installs the wheel into a fresh venv
# and runs the quickstart and `coordinate --help` from it (check_dist.py).
.PHONY: dist test-dist
DIST := dist
dist: python-dev coordinated wasm-build
	rm -rf $(DIST)
	mkdir -p $(DIST)
	$(MATURIN_ENV) $(VENV)/bin/maturin build --release --out $(DIST)
	cd wasm/pkg-node && npm pack --silent --pack-destination $(CURDIR)/$(DIST)
	cp $(COORDINATED) $(DIST)/coordinated
	ls -l $(DIST)

test-dist: dist
	COORDINATE_DIST=$(CURDIR)/$(DIST) $(PY) -m pytest -q python/tests/check_dist.py

# ---- JavaScript package (wasm/, scripts/wasm-*.sh) ----
.PHONY: wasm-toolchain wasm-build
WASM_NPM := wasm/node_modules/.installed
WASM_TESTS := wasm/tests/conformance.mjs wasm/tests/api.test.mjs \
	wasm/tests/simulation.test.mjs wasm/tests/browser.test.mjs wasm/tests/rules.test.mjs \
	wasm/tests/simulator.test.mjs wasm/tests/capacity.test.mjs

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

# The capacity-planning simulator page (examples/simulator) with the web
# build: serves the repository on 127.0.0.1 and prints the page's URL
# (SIMULATOR_PORT=0 picks a free port).
.PHONY: simulator
SIMULATOR_PORT ?= 8787
simulator: wasm-build
	node examples/simulator/serve.mjs --port $(SIMULATOR_PORT)

bench: bench-wasm

# Drain in Node against native (the core's drain_profile) in the same run.
bench-wasm: wasm-build
	cargo build --release -p coordinate --example drain_profile
	node --expose-gc wasm/bench/drain.mjs

# ---- The dashboard (/ui/ of coordinated) in headless Chromium ----
.PHONY: test-ui chromium
UI_TEST := server/tests/ui
UI_NPM := $(UI_TEST)/node_modules/.installed

# Debian's chromium, when missing (playwright-core drives it; no browser download).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "chromium is missing; installing it"; \
		$(APT_GET) update -q && $(APT_GET) install -y -q --no-install-recommends chromium; \
	fi

# playwright-core, into the git-ignored server/tests/ui/node_modules.
$(UI_NPM): $(UI_TEST)/package.json $(UI_TEST)/package-lock.json
	cd $(UI_TEST) && npm ci --no-audit --no-fund
	touch $@

# Starts coordinated (with actions, --ui-read-only, --token-file), seeds it
# with the seed_ui example, drives the pages in Chromium and checks the store
# through the API; screenshots in target/ui-test/. The HTML handlers' own
# tests (escaping, paging, bad parameters) run in test-server (tests/ui.rs).
test-ui: chromium $(UI_NPM)
	cargo build --release -p coordinate-server --bin coordinated --example seed_ui
	node $(UI_TEST)/ui.test.mjs
