#!/bin/bash
# The GPU check, run on a machine with an NVIDIA GPU (the device tool):
#   1. the cuda build: the binaries packed by bench/gpu_pack.sh (.gpu/pkg.tar.xz)
#      when present, else `cmake --preset cuda` built here;
#   2. the test binaries (every CUDA test runs; nothing may skip for want of a GPU);
#   3. bench_train beside bench/torch_train.py (the PyTorch of that machine), in one run;
#   4. a table (bench/train_table.py);
#   5. with --profile, the host's time per region (breakdown.txt) and ncu's kernel times of
#      two training steps of each model and precision, summed by kernel (profile.md; the raw
#      CSVs stay in /tmp, since the device tool brings back at most 8 files).
# Results go to $OUT (the device tool's folder) or bench/results/gpu.
#   bash bench/gpu_check.sh [--quick] [--profile]
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-bench/results/gpu}
mkdir -p "$out"
steps=100 rounds=5 profile=0
for arg in "$@"; do
  case $arg in
    --quick) steps=30 rounds=3 ;;
    --profile) profile=1 ;;
    *) echo "gpu_check: unknown option $arg (expected --quick or --profile)"; exit 2 ;;
  esac
done

if [ -f .gpu/pkg.tar.xz ]; then
  bin=/tmp/cortex_gpu
  mkdir -p $bin && tar xJf .gpu/pkg.tar.xz -C $bin
  tests=$bin/bin bench=$bin/bin
  cudnn=$(python3 -c 'import nvidia.cudnn, os; print(os.path.join(list(nvidia.cudnn.__path__)[0], "lib"))' 2>/dev/null)
  export LD_LIBRARY_PATH=$bin/lib:${cudnn:+$cudnn:}/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
  # The golden tests read the goldens from the path they were built at.
  [ -e /work/main ] || { mkdir -p /work && ln -s "$PWD" /work/main; }
else
  cmake --preset cuda && cmake --build --preset cuda || exit 1
  tests=build/cuda/tests bench=build/cuda/bench
fi

nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm --format=csv,noheader | tee "$out/gpu.txt"
log="$out/tests.log"
: > "$log"
failed=0
for t in test_backends test_optim test_nn test_train test_ops test_autograd test_core; do
  echo "== $t" >> "$log"
  if ! timeout 300 "$tests/$t" --gtest_brief=1 >> "$log" 2>&1; then failed=1; echo "FAILED: $t" | tee -a "$log"; fi
  grep -E "PASSED|FAILED|SKIPPED" "$log" | tail -3
done
skipped=$(grep -c "no CUDA device" "$log")
echo "tests: $( [ $failed = 0 ] && echo all passed || echo FAILURES ), CUDA skips: $skipped" | tee -a "$log"

# Two passes each, alternating, so that a slow spell of the machine hits both sides.
: > "$out/cortex.jsonl"
: > "$out/torch.jsonl"
for pass in 1 2; do
  timeout 300 "$bench/bench_train" --steps $steps --rounds $rounds >> "$out/cortex.jsonl" 2>> "$log"
  PYTHONUNBUFFERED=1 timeout 300 python3 bench/torch_train.py --steps $steps --rounds $rounds --precisions fp32,bf16 \
    >> "$out/torch.jsonl" 2>> "$log"
done
python3 bench/train_table.py "$out/cortex.jsonl" "$out/torch.jsonl" "$out/gpu.txt" | tee "$out/table.md"

if [ $profile = 1 ]; then
  # The host's side: time per region while the GPU runs behind (profiler.h).
  timeout 120 "$bench/bench_train" --models lecture,vgg --precisions fp32,bf16 --steps 10 --warmup 5 --rounds 1 \
    --breakdown 50 > /dev/null 2> "$out/breakdown.txt"
  ncu=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
  raw=$(mktemp -d)
  for case in lecture:fp32 lecture:bf16 vgg:fp32 vgg:bf16; do
    model=${case%:*} precision=${case#*:}
    timeout 120 "$ncu" --profile-from-start off --clock-control none --metrics gpu__time_duration.sum --csv --page raw \
      "$bench/bench_train" --models $model --precisions $precision --steps 2 --warmup 3 --rounds 1 --profile 1 \
      > "$raw/ncu_${model}_${precision}.csv" 2>> "$log"
    echo "## $model $precision" | tee -a "$out/profile.md"
    python3 bench/gpu_profile.py "$raw/ncu_${model}_${precision}.csv" 2 | head -22 | tee -a "$out/profile.md"
  done
fi
