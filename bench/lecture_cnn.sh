#!/usr/bin/env bash
# The lecture's CNN trained by Cortex (examples/lecture_cnn.cpp) beside the same model in PyTorch 1.13
# (bench/torch_lecture_cnn.py: same initialisation, loss, optimiser, batch and data), for N epochs each.
# The two run one after the other, never at the same time (the machine has 2 cores), with the same
# thread count. Prints test accuracy, test loss and median seconds per epoch side by side, and writes
# the table to DIR/lecture_cnn.txt and each side's full output to DIR/lecture_cnn-{cortex,pytorch}.log.
#
# usage: bench/lecture_cnn.sh [--epochs N] [--threads N] [--max-steps N] [--seed N] [--channels-last]
#                             [--bin PATH] [--out DIR]
#   --epochs 12, --threads 2, --out bench/results by default; --max-steps caps each epoch (smoke runs);
#   --seed and --channels-last go to the PyTorch side only (lecture_cnn takes neither).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source bench/common.sh

epochs=12
threads=2
max_steps=0
seed=0
channels_last=
bin=build/cpu/examples/lecture_cnn
out=bench/results

usage() { sed -n '2,12s/^# \{0,1\}//p' "$0" >&2; exit "$1"; }
while (($#)); do
  case $1 in
    --epochs) epochs=${2:?--epochs needs a value}; shift 2 ;;
    --threads) threads=${2:?--threads needs a value}; shift 2 ;;
    --max-steps) max_steps=${2:?--max-steps needs a value}; shift 2 ;;
    --seed) seed=${2:?--seed needs a value}; shift 2 ;;
    --channels-last) channels_last=--channels-last; shift ;;
    --bin) bin=${2:?--bin needs a value}; shift 2 ;;
    --out) out=${2:?--out needs a value}; shift 2 ;;
    -h | --help) usage 0 ;;
    *) echo "lecture_cnn: unknown argument '$1'" >&2; usage 2 ;;
  esac
done
[[ $epochs =~ ^[1-9][0-9]*$ && $threads =~ ^[1-9][0-9]*$ ]] \
  || { echo "lecture_cnn: --epochs and --threads expect positive integers" >&2; exit 2; }
[[ $max_steps =~ ^[0-9]+$ && $seed =~ ^[0-9]+$ ]] \
  || { echo "lecture_cnn: --max-steps and --seed expect non-negative integers" >&2; exit 2; }

bench_preflight lecture_cnn "$bin"
same_threads "$threads"

mkdir -p "$out"
cortex_log=$out/lecture_cnn-cortex.log
torch_log=$out/lecture_cnn-pytorch.log
limit=()
((max_steps > 0)) && limit=(--max-steps "$max_steps")
# Another busy process would slow whichever side it overlaps; say so rather than report noise.
load=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load" 'BEGIN { exit !(l > 0.5) }'; then
  echo "lecture_cnn: warning: load average is $load before starting; timings may be noisy" >&2
fi

# stdout is a pipe, so lecture_cnn's progress bar prints one line per epoch.
echo "lecture_cnn: cortex, $epochs epochs ($bin)" >&2
start=$SECONDS
"$bin" --epochs "$epochs" "${limit[@]}" 2>&1 | tee "$cortex_log" \
  || { echo "lecture_cnn: cortex failed; see $cortex_log" >&2; exit 1; }
cortex_wall=$((SECONDS - start))

echo "lecture_cnn: pytorch, $epochs epochs (bench/torch_lecture_cnn.py)" >&2
start=$SECONDS
"$python" -u bench/torch_lecture_cnn.py --epochs "$epochs" --threads "$threads" --seed "$seed" \
  "${limit[@]}" $channels_last 2>&1 | tee "$torch_log" \
  || { echo "lecture_cnn: pytorch failed; see $torch_log" >&2; exit 1; }
torch_wall=$((SECONDS - start))

header=$(
  echo "Lecture CNN on Fashion-MNIST: Cortex vs PyTorch, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1) ($(nproc) cpus), threads: $threads," \
       "epochs: $epochs$( ((max_steps > 0)) && echo ", max steps: $max_steps"), batch 128, load before: $load"
  echo "cortex: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo '+dirty')," \
       "pytorch: $("$python" -c 'import torch; print(torch.__version__)' 2>/dev/null) (seed $seed${channels_last:+, channels_last})"
  echo "wall time: cortex ${cortex_wall}s, pytorch ${torch_wall}s"
)

"$python" - "$cortex_log" "$torch_log" "$header" <<'PY' | tee "$out/lecture_cnn.txt"
import json, re, statistics, sys

cortex_path, torch_path, header = sys.argv[1:4]

def fail(msg):
    sys.exit("lecture_cnn: " + msg)

def final_value(text, name, who):
    found = re.findall(r"^%s:\s*([-+0-9.eEnaif]+)\s*$" % name, text, re.M)
    if not found:
        fail("no '%s:' line in the %s output" % (name, who))
    return float(found[-1])

# Cortex: Keras's progress lines, "469/469 [====...] - 75s 160ms/step - accuracy: ... - val_accuracy: ...".
# The seconds are rounded to whole seconds; ms/step (epoch time over steps) x steps is finer.
text = open(cortex_path).read()
epochs = re.findall(r"^\s*(\d+)/(\d+) \[=+\] - (\d+)s (\d+)ms/step(.*)$", text, re.M)
if not epochs:
    fail("no per-epoch progress lines in the cortex output")
cortex = {
    "accuracy": final_value(text, "Test accuracy", "cortex"),
    "loss": final_value(text, "Test loss", "cortex"),
    "seconds": [int(ms) * int(steps) / 1e3 for _, steps, _, ms, _ in epochs],
    "ms_per_step": [float(ms) for _, _, _, ms, _ in epochs],
}
first = re.search(r"val_accuracy: ([0-9.]+)", epochs[0][4])
cortex["epoch1_accuracy"] = float(first.group(1)) if first else None

# PyTorch: the final JSON line, plus the first epoch's test accuracy from its epoch line.
text = open(torch_path).read()
lines = [l for l in text.splitlines() if l.startswith("{")]
if not lines:
    fail("no JSON line in the pytorch output")
j = json.loads(lines[-1])
first = re.search(r"^Epoch 1/\d+ .*test_accuracy: ([0-9.]+)", text, re.M)
pytorch = {
    "accuracy": j["test_accuracy"],
    "loss": j["test_loss"],
    "seconds": j["seconds_per_epoch"],
    "ms_per_step": [1e3 * s / j["steps_per_epoch"] for s in j["seconds_per_epoch"]],
    "epoch1_accuracy": float(first.group(1)) if first else None,
}

def fmt(v, spec):
    return "-" if v is None else format(v, spec)

sc, sp = statistics.median(cortex["seconds"]), statistics.median(pytorch["seconds"])
mc, mp = statistics.median(cortex["ms_per_step"]), statistics.median(pytorch["ms_per_step"])
columns = ["", "cortex", "pytorch", "pytorch/cortex"]
rows = [
    ["test accuracy", fmt(cortex["accuracy"], ".4f"), fmt(pytorch["accuracy"], ".4f"), "-"],
    ["test loss", fmt(cortex["loss"], ".4f"), fmt(pytorch["loss"], ".4f"), "-"],
    ["test accuracy after epoch 1", fmt(cortex["epoch1_accuracy"], ".4f"), fmt(pytorch["epoch1_accuracy"], ".4f"), "-"],
    ["median s/epoch", fmt(sc, ".1f"), fmt(sp, ".1f"), fmt(sp / sc if sc else None, ".2f")],
    ["median ms/step", fmt(mc, ".0f"), fmt(mp, ".0f"), fmt(mp / mc if mc else None, ".2f")],
]
widths = [max(len(r[i]) for r in rows + [columns]) for i in range(len(columns))]
show = lambda row: "  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(row, widths)))

print(header)
print()
print(show(columns))
print(show(["-" * w for w in widths]))
for row in rows:
    print(show(row))
print()
print("s/epoch: training plus validation on the test set, as Keras's progress bar counts it; ms/step: that over")
print("the training steps. pytorch/cortex > 1: Cortex faster. Epoch 1 accuracy: validation after the first epoch.")
print("s per epoch: cortex %s" % " ".join("%.1f" % s for s in cortex["seconds"]))
print("             pytorch %s" % " ".join("%.1f" % s for s in pytorch["seconds"]))
PY
