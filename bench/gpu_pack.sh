#!/bin/bash
# Builds the cuda preset here and packs what bench/gpu_check.sh needs on a GPU
# machine that lacks the build's Debian libraries (oneDNN, libpng, ...):
# the test binaries, bench_train, the cortex CLI and those shared libraries, in
# .gpu/pkg.tar.xz (ignored by git; the device tool carries it with `carry: [".gpu"]`).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset cuda >/dev/null
cmake --build --preset cuda
stage=$(mktemp -d)
mkdir -p "$stage/bin" "$stage/lib"
for t in test_core test_autograd test_ops test_backends test_nn test_optim test_train; do
  cp build/cuda/tests/$t "$stage/bin/"
done
cp build/cuda/bench/bench_train build/cuda/cli/cortex "$stage/bin/"
# The non-CUDA shared libraries the binaries load (CUDA's own come from the GPU machine).
for lib in libdnnl.so.2 libOpenCL.so.1 libgomp.so.1 libpng16.so.16; do
  cp -L "/usr/lib/x86_64-linux-gnu/$lib" "$stage/lib/"
done
strip "$stage/bin/"*
mkdir -p .gpu
tar cJf .gpu/pkg.tar.xz -C "$stage" bin lib
rm -rf "$stage"
ls -la .gpu/pkg.tar.xz
