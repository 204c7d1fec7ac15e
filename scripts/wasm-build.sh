#!/usr/bin/env bash
# Builds the JavaScript packages of Coordinate from the wasm/ crate:
#   wasm/pkg-node  ESM package for Node (wasm loaded synchronously at import)
#   wasm/pkg-web   ESM package for browsers (`await init()` first)
# Both are generated (git-ignored); the hand-written parts come from wasm/js.
# Needs the toolchain of scripts/wasm-toolchain.sh.
#
# Usage: scripts/wasm-build.sh [--no-opt]
#   --no-opt  skip wasm-opt even when wasm/node_modules has binaryen
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"

opt=1
for arg in "$@"; do
  case $arg in
    --no-opt) opt=0 ;;
    *) echo "usage: $0 [--no-opt]" >&2; exit 2 ;;
  esac
done

# shellcheck source=scripts/wasm-env.sh
. scripts/wasm-env.sh

# -Zbuild-std needs the std source to match /usr/bin/rustc; the flags for
# panic=unwind come from wasm-env.sh. Warnings about the unstable
# exception-handling feature are expected and filtered out.
"$WASM_CARGO" build -p coordinate-wasm --profile wasm-release --target wasm32-unknown-unknown \
  -Zbuild-std="$WASM_BUILD_STD" 2> >(grep -v -e 'unstable feature specified for `-Ctarget-feature`' \
    -e 'this feature is not stably supported' -e 'generated 1 warning' -e '^ *|$' -e '^ *= note' \
    -e '^$' >&2)

wasm="$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release/coordinate_wasm.wasm"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)

# wasm-bindgen's output module is the same for both targets (only the JS
# differs), so wasm-opt, the slow step, runs once.
opt_wasm() { # in out
  if [ $opt = 1 ] && [ -x wasm/node_modules/.bin/wasm-opt ]; then
    # binaryen from npm (Debian's 108 breaks the module). Exception handling
    # is the legacy proposal; keep every feature the module uses.
    wasm/node_modules/.bin/wasm-opt -O3 --enable-exception-handling \
      --enable-reference-types --enable-bulk-memory --enable-nontrapping-float-to-int \
      --enable-sign-ext --enable-mutable-globals --enable-multivalue "$1" -o "$2"
  else
    cp "$1" "$2"
  fi
}

build() { # target out-dir entry-js entry-dts package-name
  local target=$1 out=$2 entry=$3 dts=$4 name=$5
  rm -rf "$out"
  wasm-bindgen --target "$target" --out-dir "$out" "$wasm"
  rm -f "$out/package.json" "$out/.gitignore"
  local bg="$out/coordinate_wasm_bg.wasm"
  if [ -f "$tmp/in.wasm" ] && cmp -s "$bg" "$tmp/in.wasm"; then
    cp "$tmp/out.wasm" "$bg"
  else
    cp "$bg" "$tmp/in.wasm"
    opt_wasm "$tmp/in.wasm" "$tmp/out.wasm"
    cp "$tmp/out.wasm" "$bg"
  fi
  cp wasm/js/api.js wasm/js/api.d.ts "$out/"
  if [ "$target" = experimental-nodejs-module ]; then cp wasm/js/node-v8-workaround.js "$out/"; fi
  cp "wasm/js/$entry" "$out/index.js"
  cp "wasm/js/$dts" "$out/index.d.ts"
  cp wasm/README.md "$out/README.md"
  sed -e "s/@NAME@/$name/" -e "s/@VERSION@/$version/" wasm/js/package.json.in >"$out/package.json"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
build experimental-nodejs-module wasm/pkg-node index.js index.d.ts coordinate
build web wasm/pkg-web web.js web.d.ts coordinate-web

for out in wasm/pkg-node wasm/pkg-web; do
  bytes=$(stat -c %s "$out/coordinate_wasm_bg.wasm")
  gz=$(gzip -9 -c "$out/coordinate_wasm_bg.wasm" | wc -c)
  echo "$out: coordinate_wasm_bg.wasm $bytes bytes, $gz gzipped"
done
