#!/usr/bin/env bash
# Configures and builds headscope into build/ (override with HEADSCOPE_BUILD_DIR).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${HEADSCOPE_BUILD_DIR:-$root/build}"
# ccache: paths relative to the checkout, so every clone shares the cache.
export CCACHE_BASEDIR="$root"
# -g puts the build directory into the hash unless told not to: a clone elsewhere would miss.
export CCACHE_NOHASHDIR=1
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-RelWithDebInfo}" "$@"
cmake --build "$build" -j"$(nproc)"
