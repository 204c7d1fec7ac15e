#!/usr/bin/env bash
# Installs what the wasm32 build needs (why this
# recipe): rustup cannot fetch the wasm32 std here, so std is built from
# source with Debian's rustc-web and its exact source, and linked by
# Debian's wasm-ld. Idempotent: every part already present is skipped.
# Usage: scripts/wasm-toolchain.sh [--chromium]
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WASM_BINDGEN_VERSION=${WASM_BINDGEN_VERSION:-0.2.130}
export DEBIAN_FRONTEND=noninteractive

want_chromium=0
for arg in "$@"; do
  case $arg in
    --chromium) want_chromium=1 ;;
    *) echo "usage: $0 [--chromium]" >&2; exit 2 ;;
  esac
done

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }

updated=0
apt_install() {
  [ $# -gt 0 ] || return 0
  # The image's package lists are an old snapshot: the rustc-web that
  # matches rust-web-src is only in the current security suite, so refresh
  # once, but only when there is something to install.
  if [ $updated = 0 ]; then apt-get update -q; updated=1; fi
  apt-get install -y -q --no-install-recommends "$@"
}

missing=()
for p in rustc-web cargo-web rust-web-src; do installed "$p" || missing+=("$p"); done
if [ $want_chromium = 1 ]; then
  # chromium-driver too: wasm-bindgen-test-runner drives the browser with it.
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  [ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
fi
apt_install "${missing[@]}"

# wasm-ld must come from the LLVM that rustc-web was built with (Debian
# has no rust-lld), so its version is only known once rustc-web is in.
llvm=$(/usr/bin/rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')
[ -n "$llvm" ] || { echo "cannot read LLVM version of /usr/bin/rustc" >&2; exit 1; }
command -v "wasm-ld-$llvm" >/dev/null || apt_install "lld-$llvm"

have=$("$REPO/.tools/bin/wasm-bindgen" --version 2>/dev/null || true)
if [ "$have" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  # The CLI must equal the wasm-bindgen crate version exactly. Built with
  # the machine's own (rustup) cargo and none of wasm-env.sh's settings,
  # in case the caller has sourced it. No --locked: its lockfile pins a
  # webpki-roots version the registry here does not serve.
  cargo=$(command -v cargo || echo /usr/bin/cargo)   # rustup's, else Debian's
  env -u RUSTC -u RUSTDOC -u RUSTC_BOOTSTRAP -u CARGO_TARGET_DIR \
      -u CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER \
    "$cargo" install -q --force wasm-bindgen-cli --version "=$WASM_BINDGEN_VERSION" \
      --root "$REPO/.tools"
fi

echo "wasm toolchain ready: $(/usr/bin/rustc -V), wasm-ld-$llvm, $("$REPO/.tools/bin/wasm-bindgen" --version)"
