#!/usr/bin/env bash
# Coverage-guided fuzzing of every reader (tests/fuzz): builds the libFuzzer harnesses with clang
# (ASan + UBSan) into build-fuzz/ (scripts/sanitizer_build.sh; shared with scripts/sanitize.sh, so
# after the tests nothing is rebuilt), writes their seed corpora with the project's own writers, and
# runs each target for FUZZ_SECONDS (default 60). Fails on any crash, sanitizer report, leak,
# timeout or out-of-memory, printing the reproducer and how to add it to the regression corpus
# (tests/fuzz/regressions/<target>/, replayed by ctest in the ordinary build).
#
#   scripts/fuzz.sh [target...]        default: every target
#   FUZZ_SECONDS=600 FUZZ_JOBS=1 nice -n 15 scripts/fuzz.sh tokenizer_json
#
# FUZZ_JOBS targets run side by side (default: the number of CPUs, at most 4). The working
# corpora persist in build-fuzz/corpus/<target>, so later runs start where earlier ones stopped.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${HEADSCOPE_FUZZ_BUILD_DIR:-$root/build-fuzz}"
seconds="${FUZZ_SECONDS:-60}"
jobs="${FUZZ_JOBS:-$(nproc)}"
[ "$jobs" -gt 4 ] && jobs=4

source "$root/scripts/phase.sh"
phase "sanitizer build" bash "$root/scripts/sanitizer_build.sh"

targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
  for f in "$build"/tests/fuzz/*_fuzzer; do t="$(basename "$f")"; targets+=("${t%_fuzzer}"); done
fi

seeds="$build/seeds"
rm -rf "$seeds"
"$build/tests/fuzz/headscope_fuzz_seeds" "$seeds" >/dev/null

# One target: corpus = seeds + regressions + what earlier runs kept; artifacts per target.
run_target() {
  local t="$1" corpus="$build/corpus/$1" artifacts="$build/artifacts/$1" log="$build/logs/$1.log"
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  local dirs=("$corpus")
  [ -d "$seeds/$t" ] && dirs+=("$seeds/$t")
  [ -d "$root/tests/fuzz/regressions/$t" ] && dirs+=("$root/tests/fuzz/regressions/$t")
  # -rss_limit_mb / -malloc_limit_mb: a reader that allocates more than 1 GiB for a small file
  # is a finding; -timeout: one input taking over 10 s is a finding.
  ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=0" UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
    "$build/tests/fuzz/${t}_fuzzer" "${dirs[@]}" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -malloc_limit_mb=1024 -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" >"$log" 2>&1
}

fuzz_start=$(date +%s)
failed=()
running=0
for t in "${targets[@]}"; do
  if [ ! -x "$build/tests/fuzz/${t}_fuzzer" ]; then echo "fuzz: no target '$t'" >&2; exit 2; fi
  rm -f "$build/artifacts/$t/"* "$build/logs/$t.status" 2>/dev/null || true
  ( status=0; run_target "$t" || status=$?; echo "$status" >"$build/logs/$t.status" ) &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then wait -n || true; running=$((running - 1)); fi
done
wait
echo "== phase fuzzing: $(( $(date +%s) - fuzz_start )) s (${#targets[@]} targets x ${seconds} s, $jobs at a time)"
for t in "${targets[@]}"; do
  status="$(cat "$build/logs/$t.status" 2>/dev/null || echo 99)"
  log="$build/logs/$t.log"
  execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')"
  cov="$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo '?')"
  if [ "$status" -eq 0 ]; then
    echo "fuzz: $t: ok, $execs executions, coverage $cov (${seconds}s)"
    continue
  fi
  failed+=("$t")
  echo "fuzz: $t: FAILED (exit $status) after $execs executions; log $log" >&2
  grep -E '^(==[0-9]+==ERROR|SUMMARY|=== fuzz finding)|ERROR: libFuzzer' "$log" | head -5 >&2 || true
  for a in "$build/artifacts/$t/"*; do
    [ -e "$a" ] || continue
    echo "fuzz: reproducer $a ($(stat -c %s "$a") bytes):" >&2
    head -c 512 "$a" | od -A d -c | head -20 >&2
    echo "fuzz:   replay: $build/tests/fuzz/${t}_fuzzer $a" >&2
    echo "fuzz:   keep it: cp $a $root/tests/fuzz/regressions/$t/  (after fixing the reader)" >&2
  done
  tail -40 "$log" >&2
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz: findings in: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets, no finding"
