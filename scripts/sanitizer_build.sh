#!/usr/bin/env bash
# The sanitizer build (build-fuzz/, override with HEADSCOPE_FUZZ_BUILD_DIR): the torch-free half of
# headscope, its unit tests and the libFuzzer harnesses of every reader, all built with clang,
# AddressSanitizer and UBSan. Shared by scripts/sanitize.sh (tests) and scripts/fuzz.sh (fuzzing),
# so one instrumented build serves both. Installs clang and its fuzzer runtime when missing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${HEADSCOPE_FUZZ_BUILD_DIR:-$root/build-fuzz}"

need=()
command -v clang++ >/dev/null || need+=(clang)
clang_rt="$(clang++ -print-resource-dir 2>/dev/null)/lib/linux/libclang_rt.fuzzer-x86_64.a"
[ -e "$clang_rt" ] || need+=(clang libclang-rt-dev)
if [ "${#need[@]}" -gt 0 ]; then
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  echo "sanitizer build: installing ${need[*]}"
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${need[@]}"
fi

export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DHEADSCOPE_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)"
