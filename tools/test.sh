#!/usr/bin/env bash
# tradeflow's test entry: builds and runs every test (unit, stage, integration, doc tests).
# Installs what it needs when missing. Used by developers and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  if [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  else
    echo "tools/test.sh: cargo not found; install Rust with rustup (https://rustup.rs)" >&2
    exit 1
  fi
fi

# Tests that need a Redis server start their own private redis-server on a free loopback port.
if ! command -v redis-server >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "tools/test.sh: installing redis-server"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  else
    echo "tools/test.sh: redis-server not found and cannot be installed here; Redis tests will fail" >&2
  fi
fi

# Keep the build to the cores the machine has (test threads default to the same).
jobs="${TRADEFLOW_TEST_JOBS:-$(nproc 2>/dev/null || echo 2)}"
echo "tools/test.sh: cargo test --workspace (jobs=$jobs)"
cargo test --workspace --all-targets --jobs "$jobs"
cargo test --workspace --doc --jobs "$jobs"
