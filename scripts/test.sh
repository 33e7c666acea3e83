#!/usr/bin/env bash
# Runs every test: the host, sandboxes and end-to-end suites (real wasm plugins, real Rhai,
# real SQLite; PostgreSQL too when CROSSDOCK_TEST_POSTGRES_URL is set), then the plugins'
# own unit tests natively.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/wasm-toolchain.sh install
cargo test --workspace
(cd plugins && cargo test --workspace --lib)
