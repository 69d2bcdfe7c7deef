#!/usr/bin/env bash
# tools/fuzz.sh [SECONDS] [-- LIBFUZZER_ARGS...]
#
# Fuzzes the signal decoder (tradeflow_ingress::decode_signal, target fuzz/fuzz_targets/
# decode_signal.rs) with cargo-fuzz / libFuzzer for SECONDS (default 60), then prints
# libFuzzer's final stats. Not part of tools/test.sh or CI.
#
# - Installs cargo-fuzz when missing (cargo install cargo-fuzz --locked).
# - cargo-fuzz passes nightly-only rustc flags (-Zsanitizer=..., sancov passes). On a stable
#   toolchain they are unlocked with RUSTC_BOOTSTRAP=1, which this script sets.
# - Sanitizer: FUZZ_SANITIZER=address (default) or none (faster; tradeflow's crates forbid
#   unsafe code, so AddressSanitizer mostly watches dependencies).
# - Corpus: fuzz/corpus/decode_signal (generated, git-ignored), plus the committed hand-written
#   seeds in fuzz/seeds/decode_signal (read-only) and the dictionary fuzz/decode_signal.dict.
# - Build directory: $CARGO_TARGET_DIR when set, else fuzz/target. fuzz/Cargo.lock (git-ignored)
#   starts as a copy of the root Cargo.lock.
# - A crash stops the run with a non-zero exit; libFuzzer writes the input to
#   fuzz/artifacts/decode_signal/crash-<sha1>. Replay it with
#     RUSTC_BOOTSTRAP=1 cargo fuzz run decode_signal fuzz/artifacts/decode_signal/crash-<sha1>
#   and read it with: xxd fuzz/artifacts/decode_signal/crash-<sha1>
set -euo pipefail
cd "$(dirname "$0")/.."

target=decode_signal
seconds="${1:-60}"
if [ $# -gt 0 ]; then shift; fi
if [ "${1:-}" = "--" ]; then shift; fi
case "$seconds" in
  '' | *[!0-9]*)
    echo "tools/fuzz.sh: SECONDS must be a whole number of seconds, got '$seconds'" >&2
    echo "usage: tools/fuzz.sh [SECONDS] [-- LIBFUZZER_ARGS...]" >&2
    exit 2
    ;;
esac
sanitizer="${FUZZ_SANITIZER:-address}"
case "$sanitizer" in
  address | none) ;;
  *)
    echo "tools/fuzz.sh: FUZZ_SANITIZER must be 'address' or 'none', got '$sanitizer'" >&2
    exit 2
    ;;
esac

if ! command -v cargo >/dev/null 2>&1; then
  if [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  else
    echo "tools/fuzz.sh: cargo not found; install Rust with rustup (https://rustup.rs)" >&2
    exit 1
  fi
fi
if ! command -v c++ >/dev/null 2>&1; then
  echo "tools/fuzz.sh: no C++ compiler (c++) found; libfuzzer-sys builds libFuzzer from C++ sources" >&2
  echo "  (Debian/Ubuntu: apt-get install g++)" >&2
  exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "tools/fuzz.sh: installing cargo-fuzz (cargo install cargo-fuzz --locked)"
  if ! cargo install cargo-fuzz --locked; then
    echo "tools/fuzz.sh: could not install cargo-fuzz; check network access to crates.io" >&2
    exit 1
  fi
fi

# Stable rustc refuses -Z flags unless told it is bootstrapping; nightly ignores this.
export RUSTC_BOOTSTRAP=1

# The fuzz crate is its own workspace; start its lock file from the root one so the decoder
# builds with the same dependency versions as the application (cargo then only adds
# libfuzzer-sys and drops what the fuzz crate does not use).
if [ ! -f fuzz/Cargo.lock ]; then
  cp Cargo.lock fuzz/Cargo.lock
fi

corpus="fuzz/corpus/$target"
seeds="fuzz/seeds/$target"
mkdir -p "$corpus"
target_dir_args=()
if [ -n "${CARGO_TARGET_DIR:-}" ]; then
  target_dir_args=(--target-dir "$CARGO_TARGET_DIR")
fi

echo "tools/fuzz.sh: building $target (sanitizer=$sanitizer)"
if ! cargo fuzz build --sanitizer "$sanitizer" "${target_dir_args[@]}" "$target"; then
  echo "tools/fuzz.sh: building the fuzz target failed (see the errors above)." >&2
  if [ "$sanitizer" = address ]; then
    echo "  If the failure is about the sanitizer, retry with FUZZ_SANITIZER=none." >&2
  fi
  exit 1
fi

echo "tools/fuzz.sh: fuzzing $target for ${seconds}s (corpus $corpus, seeds $seeds)"
status=0
cargo fuzz run --sanitizer "$sanitizer" "${target_dir_args[@]}" "$target" "$corpus" "$seeds" -- \
  -max_total_time="$seconds" -dict="fuzz/$target.dict" -print_final_stats=1 "$@" || status=$?

if [ "$status" -ne 0 ]; then
  echo "tools/fuzz.sh: the fuzzer stopped with status $status: a crash or a failed invariant." >&2
  echo "  The input is in fuzz/artifacts/$target/ (see the header of this script to replay it)." >&2
  exit "$status"
fi
echo "tools/fuzz.sh: no crash in ${seconds}s"
