#!/usr/bin/env bash
# The plugin SDK end to end, as a user meets it:
#   1. install headscope (CLI, library, headers, CMake package) into a temporary prefix;
#   2. build plugins/example_entropy as its own CMake project against that prefix;
#   3. the installed CLI loads it with --plugin-dir, lists it, runs it on stories260K;
#   4. its entropy and distance values match an independent numpy computation from the
#      attention patterns cached by 'headscope run';
#   5. 'headscope report' renders its results.
# Usage: test_example_entropy.sh CMAKE BUILD_DIR SOURCE_DIR SHARED_DIR PYTHON
set -euo pipefail
cmake_cmd=$1 build=$2 source=$3 shared=$4 python=$5
model=$shared/models/stories260K/stories260K.bin
if [ ! -f "$model" ]; then
  echo "SKIP: $model is missing"
  exit 77
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/headscope-sdk-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

echo "== install into $prefix"
"$cmake_cmd" --install "$build" --prefix "$prefix" > "$work/install.log"
test -x "$prefix/bin/headscope"
test -f "$prefix/include/headscope/sdk/analysis.hpp"
test -f "$prefix/lib/cmake/headscope/headscopeConfig.cmake"
test -f "$prefix/lib/cmake/headscope/HeadscopeAddAnalysis.cmake"
ls "$prefix"/lib/libheadscope_core.so > /dev/null

echo "== build plugins/example_entropy out of tree"
launcher=()
if command -v ccache > /dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
"$cmake_cmd" -S "$source/plugins/example_entropy" -B "$work/plugin-build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_PREFIX_PATH="$prefix" "${launcher[@]}" > "$work/configure.log" || { cat "$work/configure.log"; exit 1; }
"$cmake_cmd" --build "$work/plugin-build" > "$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
plugin=$work/plugin-build/example_entropy.so
test -f "$plugin"
# Only the entry point is exported.
exported=$(nm -D --defined-only "$plugin" | awk '$2 == "T" {print $3}' | grep -v '^_init$\|^_fini$' || true)
if [ "$exported" != "headscope_plugin_info" ]; then
  echo "FAIL: the plugin exports more than its entry point:"; echo "$exported"; exit 1
fi

cli=$prefix/bin/headscope
echo "== headscope analyses --plugin-dir"
listing=$("$cli" analyses --plugin-dir "$work/plugin-build")
echo "$listing" | grep -q '^attention_entropy ' || { echo "FAIL: attention_entropy not listed"; echo "$listing"; exit 1; }
echo "$listing" | grep -q 'refused' && { echo "FAIL: a plugin was refused"; echo "$listing"; exit 1; }
echo "$listing" | grep -A3 '^attention_entropy ' | grep -q 'attention_entropy.first_query=' \
  || { echo "FAIL: parameters not listed"; echo "$listing"; exit 1; }

prompt="Once upon a time, there was a little girl named Lily. She loved to play outside with her ball."
for normalized in false true; do
  echo "== headscope analyze (normalized=$normalized)"
  "$cli" analyze "$model" --prompt "$prompt" --analysis attention_entropy --plugin-dir "$work/plugin-build" \
    --set attention_entropy.normalized=$normalized --set attention_entropy.first_query=2 --out "$work/results_$normalized.h5"
done
# Also through HEADSCOPE_PLUGIN_PATH instead of --plugin-dir.
HEADSCOPE_PLUGIN_PATH=/nonexistent:$work/plugin-build "$cli" analyze "$model" --prompt "$prompt" \
  --analysis attention_entropy --out "$work/results_default.h5" > /dev/null

echo "== headscope run --cache patterns; independent numpy computation"
"$cli" run "$model" --prompt "$prompt" --cache 'blocks.*.attn.hook_pattern' --out "$work/cache.h5" > /dev/null
"$python" "$source/tests/tools/check_attention_entropy.py" "$work/cache.h5" "$work/results_false.h5" 2 false
"$python" "$source/tests/tools/check_attention_entropy.py" "$work/cache.h5" "$work/results_true.h5" 2 true
"$python" "$source/tests/tools/check_attention_entropy.py" "$work/cache.h5" "$work/results_default.h5" 1 false

echo "== the template plugin builds too"
"$cmake_cmd" -S "$source/plugins/template" -B "$work/template-build" -DCMAKE_PREFIX_PATH="$prefix" "${launcher[@]}" > "$work/configure-template.log" \
  || { cat "$work/configure-template.log"; exit 1; }
"$cmake_cmd" --build "$work/template-build" > "$work/build-template.log" 2>&1 || { cat "$work/build-template.log"; exit 1; }
"$cli" analyze "$model" --prompt "$prompt" --analysis my_analysis --plugin-dir "$work/template-build" --out "$work/template.h5" > /dev/null

echo "== headscope report renders the plugin's results"
"$cli" report "$work/results_false.h5" --html "$work/report.html" --pdf "$work/report.pdf" > /dev/null
grep -q 'Attention entropy' "$work/report.html"
grep -q 'Mean attention distance' "$work/report.html"
grep -q 'is the most focused' "$work/report.html"
echo "PASS"
