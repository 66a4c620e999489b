#!/usr/bin/env bash
# Sets up, builds and runs every test: the full suite (ctest), then the torch-free unit tests and
# the fuzz regression corpus again under AddressSanitizer + UBSan (scripts/sanitize.sh). Prints
# each phase's time.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/phase.sh"
phase setup "$root/scripts/setup.sh"
phase build "$root/scripts/build.sh"
build="${HEADSCOPE_BUILD_DIR:-$root/build}"
phase ctest bash -c "cd '$build' && ctest --output-on-failure -j$(nproc) --timeout 900"
bash "$root/scripts/sanitize.sh"
