# shellcheck shell=bash
# Shared by .ci/serve and .ci/test: pinned tool versions, and functions that install whatever this
# machine lacks and skip whatever it already has. Every tool comes from a package registry;
# nothing downloads a prebuilt binary.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUST_TOOLCHAIN=1.95.0
CARGO_LEPTOS_VERSION=0.3.10
WASM_BINDGEN_VERSION=0.2.130 # must equal the wasm-bindgen pin in Cargo.toml
WASM_OPT_VERSION=132         # binaryen from npm, pinned in .ci/tools/package-lock.json
# The newest whose own Cargo.lock builds on $RUST_TOOLCHAIN: 1.13.5 and 1.14.0 lock
# rust-analyzer crates that need rustc 1.98.
CARGO_SHEAR_VERSION=1.13.4
LEPTOSFMT_VERSION=0.1.33

# CI runs in a fresh clone each time: a target directory outside it keeps repeat runs fast.
if [[ -n "${CI:-}" && -z "${CARGO_TARGET_DIR:-}" ]]; then
  export CARGO_TARGET_DIR="$HOME/.cache/rowbench/target"
fi
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
# cargo-leptos runs wasm-bindgen and wasm-opt from PATH when it finds them there, and only
# otherwise tries to download them (which fails offline): both are installed from registries.
export PATH="$ROOT/.ci/tools/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

SUDO=""
if [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null; then SUDO="sudo"; fi

step() { printf '\n\033[1;34m==> %s\033[0m\n' "$*" >&2; }

apt_install() {
  step "Installing Debian packages: $*"
  if [[ -z "${ROWBENCH_APT_UPDATED:-}" ]]; then
    $SUDO apt-get update -qq
    export ROWBENCH_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

ensure_rust() {
  if ! command -v rustup >/dev/null; then
    echo "rustup is required (https://rustup.rs); it is not on PATH." >&2
    exit 1
  fi
  if ! rustup toolchain list | grep -q "^$RUST_TOOLCHAIN"; then
    step "Installing Rust $RUST_TOOLCHAIN"
    rustup toolchain install "$RUST_TOOLCHAIN" --profile minimal
  fi
  local have
  have=$(rustup component list --installed --toolchain "$RUST_TOOLCHAIN")
  for c in rustfmt clippy; do
    grep -q "^$c" <<<"$have" || rustup component add "$c" --toolchain "$RUST_TOOLCHAIN"
  done
  if ! rustup target list --installed --toolchain "$RUST_TOOLCHAIN" | grep -q '^wasm32-unknown-unknown$'; then
    step "Adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown --toolchain "$RUST_TOOLCHAIN"
  fi
}

# cargo_tool BINARY VERSION CRATE [cargo install flags...]: installs CRATE@VERSION unless BINARY
# already reports VERSION. LTO is switched off for the install: the tools run fine without it and
# build several minutes faster on two cores.
cargo_tool() {
  local bin=$1 version=$2 crate=$3
  shift 3
  if "$bin" --version 2>/dev/null | grep -q " $version\b"; then return; fi
  step "Building $crate $version from crates.io (one-time; several minutes)"
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo "+$RUST_TOOLCHAIN" install "$crate" --version "$version" "$@"
}

ensure_node() {
  if ! command -v npm >/dev/null; then apt_install nodejs npm; fi
}

# npm_project DIR: installs DIR's locked npm packages unless they are already in place.
npm_project() {
  local dir=$1
  if [[ -f "$dir/node_modules/.package-lock.json" && "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]]; then
    return
  fi
  step "Installing npm packages in ${dir#"$ROOT"/}"
  (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
}

ensure_build_tools() {
  ensure_rust
  cargo_tool cargo-leptos "$CARGO_LEPTOS_VERSION" cargo-leptos --locked
  # Without --locked: its lockfile pins crates that no longer build on this toolchain.
  cargo_tool wasm-bindgen "$WASM_BINDGEN_VERSION" wasm-bindgen-cli
  ensure_node
  npm_project "$ROOT/.ci/tools"
  wasm-opt --version | grep -q "version $WASM_OPT_VERSION" || {
    echo "wasm-opt $WASM_OPT_VERSION was expected from .ci/tools; found: $(wasm-opt --version)" >&2
    exit 1
  }
}

# Tools only .ci/test uses, so .ci/serve and the benchmarks do not wait for them to build.
ensure_check_tools() {
  ensure_rust
  cargo_tool cargo-shear "$CARGO_SHEAR_VERSION" cargo-shear --locked
  cargo_tool leptosfmt "$LEPTOSFMT_VERSION" leptosfmt --locked
}

ensure_browser() {
  if [[ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]]; then apt_install chromium; fi
  if ! command -v curl >/dev/null; then apt_install curl; fi
  npm_project "$ROOT/end2end"
}
