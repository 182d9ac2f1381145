#!/usr/bin/env bash
# The lecture CNN's training and inference on the CPU, Cortex (bench_train) beside PyTorch
# (bench/torch_train.py with Debian's python3-torch, OpenBLAS's OpenMP build, the faster of NCHW and
# channels_last), alternating, two passes each, after the matrix-product peak measured in the same run.
# Same model, batch 128, Adadelta, synthetic data in host memory; inference over 10,000 images in
# batches of 1,000. Prints the table and writes the raw lines under bench/results/.
#   bash bench/cpu_train.sh [--threads 2] [--steps 30] [--rounds 3] [--breakdown 10]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source bench/common.sh
threads=2 steps=30 rounds=3 breakdown=10
while (($#)); do
  case $1 in
    --threads) threads=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --breakdown) breakdown=$2; shift 2 ;;
    *) echo "cpu_train: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
bin=build/cpu/bench
bench_preflight cpu_train "$bin/bench_train" "$bin/bench_ops"
same_threads "$threads"
out=bench/results
mkdir -p "$out"
: >"$out/cpu_cortex.jsonl"
: >"$out/cpu_torch.jsonl"
: >"$out/cpu_breakdown.md"
peak=$("$bin/bench_ops" --case peak --reps 3 --threads "$threads" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["gflops"])')
common=(--models lecture --precisions fp32 --steps "$steps" --warmup 3 --rounds "$rounds" --epoch 0 --infer 1 --threads "$threads")
for pass in 1 2; do
  echo "cpu_train: pass $pass, cortex" >&2
  "$bin/bench_train" --device cpu "${common[@]}" --breakdown $((pass == 1 ? breakdown : 0)) \
    >>"$out/cpu_cortex.jsonl" 2>>"$out/cpu_breakdown.md"
  echo "cpu_train: pass $pass, pytorch" >&2
  "$python" bench/torch_train.py --device cpu "${common[@]}" >>"$out/cpu_torch.jsonl"
done
lscpu | sed -n 's/^Model name: *//p' | head -1 | sed "s/\$/, $(nproc) cores, $threads threads/" >"$out/cpu_machine.txt"
python3 bench/train_table.py "$out/cpu_cortex.jsonl" "$out/cpu_torch.jsonl" "$out/cpu_machine.txt" "$peak" \
  | tee "$out/cpu_table.md"
echo
cat "$out/cpu_breakdown.md"
