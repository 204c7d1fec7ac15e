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
