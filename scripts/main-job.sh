#!/usr/bin/env bash
# The main job: sets up, builds, and opens headscope-gui on the built-in tiny-world model with a
# sample prompt, already run. Where no display exists (no $DISPLAY / $WAYLAND_DISPLAY), it runs
# every built-in analysis on tiny-world's IOI prompts instead and writes the report (HTML, PDF and
# the HDF5 results it is rendered from), then says where.
#   HEADSCOPE_NO_GUI=1   write the report even when a display exists
#   HEADSCOPE_OUT=DIR    where the report goes (default build/main-job)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
build="${HEADSCOPE_BUILD_DIR:-$root/build}"

if [[ -z "${HEADSCOPE_NO_GUI:-}" && ( -n "${DISPLAY:-}" || -n "${WAYLAND_DISPLAY:-}" ) ]]; then
  # No arguments: tiny-world and its sample IOI prompt (answer ' Mary' vs ' John'), already run;
  # the prompt-set picker offers data/prompts/*.jsonl.
  echo "opening headscope-gui on the built-in tiny-world model"
  exec "$build/app/gui/headscope-gui"
fi

out="${HEADSCOPE_OUT:-$build/main-job}"
mkdir -p "$out"
analyses="qk_ov_svd,composition,head_detectors,head_attribution,attention_sinks,logit_lens,head_similarity"
"$build/app/cli/headscope" analyze --prompts "$root/data/prompts/ioi.jsonl" \
  --analysis "$analyses" --out "$out/tiny-world-ioi.h5" \
  --report "$out/tiny-world-ioi.html" --pdf "$out/tiny-world-ioi.pdf"
echo
echo "No display found, so instead of the GUI the main job wrote the report of the built-in analyses"
echo "on the built-in tiny-world model and its IOI prompts:"
echo "  $out/tiny-world-ioi.html   (open in any browser)"
echo "  $out/tiny-world-ioi.pdf"
echo "  $out/tiny-world-ioi.h5     (the results it renders; 'headscope report' re-renders it)"
