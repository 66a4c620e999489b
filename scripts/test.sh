#!/usr/bin/env bash
# Sets up, builds and runs every test: the full suite (ctest), then the torch-free unit tests
# again under AddressSanitizer + UBSan (format readers fed corrupted files must never crash),
# with the fuzz regression corpus (tests/fuzz/regressions) replayed in both builds.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
build="${HEADSCOPE_BUILD_DIR:-$root/build}"
(cd "$build" && ctest --output-on-failure -j2 --timeout 900)

asan="${HEADSCOPE_ASAN_BUILD_DIR:-$root/build-asan}"
cmake -S "$root" -B "$asan" -DCMAKE_BUILD_TYPE=Debug -DHEADSCOPE_SANITIZE=ON -DHEADSCOPE_ONLY='.' >/dev/null
cmake --build "$asan" -j"$(nproc)" --target headscope_unit_tests headscope_fuzz_replays
(cd "$asan" && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j2 --timeout 900)
