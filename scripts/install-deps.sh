#!/usr/bin/env bash
# Installs the Debian 12 packages Cortex builds, tests and benchmarks with.
# Idempotent and silent when everything is already installed; otherwise runs
# `apt-get update` once and installs only what is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache g++ pkg-config
  libdnnl-dev ocl-icd-opencl-dev    # oneDNN: the CPU backend (its CMake config asks for OpenCL, only a Recommends)
  libgtest-dev libgmock-dev         # tests
  libbenchmark-dev                  # micro-benchmarks
  nlohmann-json3-dev libcli11-dev   # file formats, command line
  zlib1g-dev libpng-dev             # IDX .gz datasets, PNG images
  dataset-fashion-mnist             # the default dataset
  bible-kjv                         # the language model's text: `bible` writes the King James Bible
  graphviz                          # `cortex visualize model` draws the layer graph with dot
  python3-torch python3-numpy       # goldens and the side-by-side benchmark baseline
  libopenblas0-openmp               # fast BLAS for torch/numpy (Debian's default is the reference BLAS)
  chromium                          # the training report's headless-browser test
)

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  [[ $status == installed ]] || missing+=("$pkg")
done
((${#missing[@]} == 0)) && exit 0

sudo=()
if ((EUID != 0)); then
  if ! command -v sudo >/dev/null; then
    echo "install-deps: missing packages (${missing[*]}); run as root or install sudo" >&2
    exit 1
  fi
  sudo=(sudo)
fi

echo "install-deps: installing ${missing[*]}" >&2
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq

unavailable=()
for pkg in "${missing[@]}"; do
  candidate=$(apt-cache policy "$pkg" 2>/dev/null | awk '/Candidate:/ { print $2 }')
  [[ -n $candidate && $candidate != "(none)" ]] || unavailable+=("$pkg")
done
if ((${#unavailable[@]} > 0)); then
  echo "install-deps: no apt candidate for: ${unavailable[*]} (Debian 12 'main' is expected in the apt sources)" >&2
  exit 1
fi

"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
