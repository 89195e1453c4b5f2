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

# PostgreSQL for the tests and benchmarks, from Debian's packages: the server binaries only (the
# package's own cluster is never used; each run starts a throwaway one of its own).
PG_BIN=""
ensure_postgres() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    if [[ -x "$dir/initdb" ]]; then PG_BIN=$dir; fi
  done
  if [[ -z "$PG_BIN" ]]; then
    apt_install postgresql
    for dir in /usr/lib/postgresql/*/bin; do
      if [[ -x "$dir/initdb" ]]; then PG_BIN=$dir; fi
    done
  fi
  if [[ -z "$PG_BIN" ]]; then
    echo "PostgreSQL's server binaries are missing after installing the postgresql package." >&2
    exit 1
  fi
}

# start_postgres: a throwaway cluster in a temporary directory, on loopback at a free port, with
# password (SCRAM) login for user rowbench. Sets PG_URL (its maintenance database, postgres),
# PG_DIR and PG_PID; stop_postgres stops it by that PID and removes the directory. initdb refuses
# to run as root, so as root the cluster belongs to the postgres user (or nobody).
PG_URL=""
PG_DIR=""
PG_PID=""
start_postgres() {
  ensure_postgres
  PG_DIR=$(mktemp -d /tmp/rowbench-pg.XXXXXX)
  local run_as=()
  if [[ $(id -u) -eq 0 ]]; then
    local owner=postgres
    id -u postgres >/dev/null 2>&1 || owner=nobody
    chown "$owner" "$PG_DIR"
    run_as=(runuser -u "$owner" --)
  fi
  local password
  password=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
  printf '%s\n' "$password" >"$PG_DIR/pw"
  if [[ ${#run_as[@]} -gt 0 ]]; then chown "${run_as[2]}" "$PG_DIR/pw"; fi
  "${run_as[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U rowbench --pwfile="$PG_DIR/pw" \
    -A scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 || {
    cat "$PG_DIR/initdb.log" >&2
    return 1
  }
  rm -f "$PG_DIR/pw"
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  # fsync off: a throwaway cluster need not survive a power cut, and the tests create and drop
  # hundreds of databases. The queue's own guarantees are about processes, not disks.
  "${run_as[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400" \
    start >/dev/null || {
    cat "$PG_DIR/server.log" >&2
    return 1
  }
  PG_PID=$(head -n 1 "$PG_DIR/data/postmaster.pid")
  PG_URL="postgres://rowbench:$password@127.0.0.1:$port/postgres"
  echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (pid $PG_PID)" >&2
}

stop_postgres() {
  if [[ -n "$PG_PID" ]]; then
    kill -INT "$PG_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$PG_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$PG_PID" 2>/dev/null || true
    PG_PID=""
  fi
  if [[ -n "$PG_DIR" ]]; then
    rm -rf "$PG_DIR"
    PG_DIR=""
  fi
}
