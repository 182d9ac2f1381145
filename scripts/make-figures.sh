#!/usr/bin/env bash
# Redraws the README's pictures in docs/img from the `make demo` run
# (model.cortex and runs/demo) and, unless --no-experiment, reruns the
# shift-invariance experiment (about 10 minutes on 2 cores).
#
#   bash scripts/make-figures.sh [--no-experiment]
set -euo pipefail
cd "$(dirname "$0")/.."
cortex=./build/cpu/cli/cortex
out=docs/img
[[ -x $cortex ]] || { echo "make-figures: build first (make build)" >&2; exit 1; }
[[ -f model.cortex && -f runs/demo/history.csv ]] || { echo "make-figures: run make demo first" >&2; exit 1; }
mkdir -p "$out"

$cortex visualize filters model.cortex --scale 16 -o $out/filters.png
$cortex visualize filters model.cortex --layer conv2d_1 --scale 4 -o $out/filters_conv2d_1.png
# Test image 0 is an ankle boot, 4 a shirt.
$cortex visualize feature-maps model.cortex --index 0 --layer conv2d --scale 3 -o $out/feature_maps_conv2d.png
$cortex visualize feature-maps model.cortex --index 0 --layer conv2d_1 --scale 3 -o $out/feature_maps_conv2d_1.png
$cortex visualize saliency model.cortex --index 0 -o $out/saliency_boot.png
$cortex visualize saliency model.cortex --index 4 -o $out/saliency_shirt.png
$cortex visualize occlusion model.cortex --index 0 -o $out/occlusion_boot.png
$cortex visualize occlusion model.cortex --index 4 -o $out/occlusion_shirt.png
$cortex visualize confusion model.cortex -o $out/confusion.svg
$cortex visualize curves runs/demo -o $out/curves.svg
$cortex report runs/demo
if command -v chromium >/dev/null; then
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1100,2400 \
    --screenshot="$PWD/$out/report.png" "file://$PWD/runs/demo/report.html" 2>/dev/null
fi
if [[ ${1:-} != --no-experiment ]]; then
  $cortex experiment shift-invariance --epochs 3 -o $out/shift_invariance.svg | grep -v '^Wrote' | tee $out/shift_invariance.txt
fi
