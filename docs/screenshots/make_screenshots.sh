#!/usr/bin/env bash
# Regenerates the screenshots in this folder: headscope-gui on the built-in tiny-world model
# and the default prompt, each view rendered by the app itself (--screenshot). Uses the display
# in $DISPLAY when there is one (e.g. `Xvfb :99 & DISPLAY=:99 ./make_screenshots.sh`), else
# Qt's offscreen platform.
#   usage: docs/screenshots/make_screenshots.sh [BUILD_DIR]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="${1:-$here/../../build}"
gui="$build/app/gui/headscope-gui"
shot() {  # VIEW FILE OPTIONS...
  local view="$1" file="$2"
  shift 2
  "$gui" --size 1600x1000 --view "$view" --screenshot "$here/$file" "$@"
}
shot window window.png --select L1H6
shot tokens tokens.png --select L1H6
shot grid grid.png --select L1H6
shot pattern pattern.png --select L1H6
shot head head.png --select L3H5
shot circuit circuit.png --select L1H6
shot sinks sinks.png --select L3H3
shot interventions interventions.png --select L1H6 --scale L1H6=0
shot results results.png --result logit_lens/target_probability_p0
shot model model.png
shot plugins plugins.png
shot window window-dark.png --select L1H6 --scale L1H6=0 --theme dark
