#!/usr/bin/env bash
# The torch-free unit tests and every fuzz target's regression corpus under AddressSanitizer +
# UBSan (format readers fed corrupted files must never crash or leak), in the sanitizer build.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/phase.sh"
build="${HEADSCOPE_FUZZ_BUILD_DIR:-$root/build-fuzz}"
phase "sanitizer build" bash "$root/scripts/sanitizer_build.sh"
cd "$build"
phase "sanitized tests" env ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --output-on-failure -j"$(nproc)" --timeout 900
