#!/usr/bin/env bash
# The main job: sets up, builds, and shows headscope on a real pretrained model — stories260K
# (from ../shared) described, tokenized, generating a story, and its activations saved to HDF5.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
build="${HEADSCOPE_BUILD_DIR:-$root/build}"
model="${HEADSCOPE_MODEL:-$root/../shared/models/stories260K/stories260K.bin}"
tokenizer="${HEADSCOPE_TOKENIZER:-$root/../shared/models/stories260K/tok512.bin}"
out="${HEADSCOPE_OUT:-$build/main-job}"
mkdir -p "$out"
hs="$build/app/cli/headscope"
"$hs" info "$model" --tokenizer "$tokenizer"
echo
"$hs" generate "$model" --tokenizer "$tokenizer" --prompt "Once upon a time" --max-tokens 120
echo
"$hs" run "$model" --tokenizer "$tokenizer" --prompt "Once upon a time, Lily found a ball." \
  --cache 'blocks.*.attn.hook_pattern' --cache 'blocks.*.hook_resid_post' --out "$out/stories260K-run.h5"
