# Source me (`. scripts/wasm-env.sh`), in bash or in make's /bin/sh, right
# before a wasm build; install the toolchain first with
# scripts/wasm-toolchain.sh. POSIX sh on purpose: make runs recipes in dash.
# Nothing here sets shell options or exits, so a failure returns 1 to the
# caller instead of killing its shell; the only names left behind are the
# exported ones below.
#
# Why these settings: rustup's 1.95 has no wasm32 std and cannot download
# one here, so std is built from source (-Zbuild-std) by Debian's rustc-web
# 1.96, which must match the std source in rust-web-src exactly.
# RUSTC_BOOTSTRAP=1 lets a stable cargo take -Z flags. A separate target dir
# keeps 1.96 artifacts away from the host build's 1.95 ones.
#
# Panics: the wasm build uses panic=unwind, so wasm-bindgen's export shims
# catch a Rust panic and throw it to JavaScript as a `PanicError` (an Error
# with the panic message) while the instance stays usable. With the
# target's default panic=abort a panic is an opaque
# `RuntimeError: unreachable` that leaves the instance dead. Unwinding needs
# std rebuilt with panic_unwind (WASM_BUILD_STD) and the wasm
# exception-handling feature (legacy EH instructions, which Node 20 and
# Chromium run); rustc warns that the feature is unstable, which is expected.
# Build with (scripts/wasm-build.sh does, then runs wasm-bindgen):
#   $WASM_CARGO build -p coordinate-wasm --profile wasm-release \
#     --target wasm32-unknown-unknown -Zbuild-std=$WASM_BUILD_STD
#
# WASM_CARGO=/usr/bin/cargo: cargo-web installs Debian's cargo 1.96 as
# /usr/bin/cargo (no other name; rustup's proxy in ~/.cargo/bin stays first
# in PATH, so plain `cargo` is still rustup's 1.95). Rustup's cargo with
# RUSTC=/usr/bin/rustc also works (byte-identical .wasm), but we take
# Debian's: -Zbuild-std is unstable and reads the std source's own
# Cargo.toml/Cargo.lock, so the cargo shipped with that source is the one
# sure to keep working after a rustc-web update, and it cannot be redirected
# by a rust-toolchain file or a rustup download.

# The repo root: from bash we know where this file is; dash cannot tell a
# sourced file's path, so fall back to git, then to the current directory
# (the Makefile runs from the root).
if [ -n "${BASH_SOURCE:-}" ]; then
  WASM_REPO=$(cd "$(dirname "$BASH_SOURCE")/.." && pwd)
else
  WASM_REPO=$(git rev-parse --show-toplevel 2>/dev/null || pwd)
fi

WASM_LLVM=$(/usr/bin/rustc -vV 2>/dev/null | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')
if [ -z "$WASM_LLVM" ] || ! command -v "wasm-ld-$WASM_LLVM" >/dev/null 2>&1 \
   || [ ! -x "$WASM_REPO/.tools/bin/wasm-bindgen" ]; then
  echo "wasm-env.sh: toolchain missing; run scripts/wasm-toolchain.sh" >&2
  unset WASM_REPO WASM_LLVM
  return 1
fi

export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER="wasm-ld-$WASM_LLVM"
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Cpanic=unwind -Ctarget-feature=+exception-handling"
export WASM_BUILD_STD=std,panic_unwind
# WASM_TARGET_DIR overrides it, e.g. to share the built std between checkouts.
export CARGO_TARGET_DIR="${WASM_TARGET_DIR:-$WASM_REPO/target/wasm}"
export WASM_CARGO=/usr/bin/cargo
export PATH="$WASM_REPO/.tools/bin:$PATH"
unset WASM_REPO WASM_LLVM
