#!/usr/bin/env bash
# Keras's addition_rnn trained by `cortex seq addition` beside the same model in PyTorch 1.13
# (bench/torch_addition.py: same data rule, initialisation, loss, optimiser and batch), one after the
# other with the same thread count. Prints each side's final validation per-character accuracy, exact
# match and median ms/step, and writes the table to DIR/addition.txt and each side's output to
# DIR/addition-{cortex,pytorch}.log.
#
# usage: bench/addition.sh [--epochs N] [--threads N] [--samples N] [--clipnorm X] [--bin PATH] [--out DIR]
#   --epochs 30, --threads 2, --samples 50000, --clipnorm 1 (0: none), --out bench/results by default.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source bench/common.sh

epochs=30
threads=2
samples=50000
clipnorm=1
bin=build/cpu/cli/cortex
out=bench/results

usage() { sed -n '2,9s/^# \{0,1\}//p' "$0" >&2; exit "$1"; }
while (($#)); do
  case $1 in
    --epochs) epochs=${2:?--epochs needs a value}; shift 2 ;;
    --threads) threads=${2:?--threads needs a value}; shift 2 ;;
    --samples) samples=${2:?--samples needs a value}; shift 2 ;;
    --clipnorm) clipnorm=${2:?--clipnorm needs a value}; shift 2 ;;
    --bin) bin=${2:?--bin needs a value}; shift 2 ;;
    --out) out=${2:?--out needs a value}; shift 2 ;;
    -h | --help) usage 0 ;;
    *) echo "addition: unknown argument '$1'" >&2; usage 2 ;;
  esac
done
[[ $epochs =~ ^[1-9][0-9]*$ && $threads =~ ^[1-9][0-9]*$ && $samples =~ ^[1-9][0-9]*$ ]] \
  || { echo "addition: --epochs, --threads and --samples expect positive integers" >&2; exit 2; }

bench_preflight addition "$bin"
same_threads "$threads"
mkdir -p "$out"
cortex_log=$out/addition-cortex.log
torch_log=$out/addition-pytorch.log
load=$(cut -d' ' -f1 /proc/loadavg)

echo "addition: cortex, $epochs epochs" >&2
start=$SECONDS
ONEDNN_VERBOSE=0 "$bin" seq addition --epochs "$epochs" --samples "$samples" --threads "$threads" --verbose 2 \
  --clipnorm "$clipnorm" \
  --output "$out/addition.cortex" 2>&1 | tee "$cortex_log" || { echo "addition: cortex failed; see $cortex_log" >&2; exit 1; }
cortex_wall=$((SECONDS - start))
echo "addition: pytorch, $epochs epochs" >&2
start=$SECONDS
"$python" -u bench/torch_addition.py --epochs "$epochs" --samples "$samples" --threads "$threads" --clipnorm "$clipnorm" 2>&1 \
  | tee "$torch_log" || { echo "addition: pytorch failed; see $torch_log" >&2; exit 1; }
torch_wall=$((SECONDS - start))

isa=$(ONEDNN_VERBOSE=1 "$bin" seq addition --samples 100 --epochs 1 --max-steps 1 --verbose 0 --examples 0 \
        --output /dev/null 2>/dev/null | sed -n 's/.*isa:\([^,]*\).*/\1/p' | head -1 || true)
{
  echo "Keras's addition_rnn: Cortex vs PyTorch, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1) ($(nproc) cpus), oneDNN isa: ${isa:-unknown}," \
       "threads: $threads, epochs: $epochs, samples: $samples, batch 32, clipnorm: $clipnorm, load before: $load"
  echo "cortex: $(git rev-parse --short HEAD 2>/dev/null || echo unknown), pytorch: $("$python" -c 'import torch; print(torch.__version__)')"
  echo "wall time: cortex ${cortex_wall}s, pytorch ${torch_wall}s"
  "$python" - "$cortex_log" "$torch_log" <<'PY'
import re, statistics, sys
c, t = open(sys.argv[1]).read(), open(sys.argv[2]).read()
c_ms = [float(m) for m in re.findall(r"- \d+s (\d+(?:\.\d+)?)ms/step", c)]
t_ms = [float(m) for m in re.findall(r"\(([\d.]+) ms/step\)", t)]
c_char = float(re.findall(r"Validation per-character accuracy: ([\d.]+)", c)[-1])
c_exact = float(re.findall(r"Validation exact match: ([\d.]+)", c)[-1])
t_char = float(re.findall(r"val_accuracy ([\d.]+)", t)[-1])
t_exact = float(re.findall(r"Validation exact match: ([\d.]+)", t)[-1])
print(f"{'':24}{'cortex':>10}{'pytorch':>10}")
print(f"{'val per-char accuracy':24}{c_char:>10.4f}{t_char:>10.4f}")
print(f"{'val exact match':24}{c_exact:>10.4f}{t_exact:>10.4f}")
if c_ms and t_ms:
    cm, tm = statistics.median(c_ms), statistics.median(t_ms)
    print(f"{'median ms/step':24}{cm:>10.2f}{tm:>10.2f}   (pytorch / cortex: {tm / cm:.2f}x)")
PY
} | tee "$out/addition.txt"
