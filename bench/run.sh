#!/usr/bin/env bash
# Cortex vs PyTorch on the same cases, threads and machine, runs interleaved
# (cortex, pytorch, cortex, pytorch, ...) so that noise hits both sides alike.
# Prints a table and writes it to bench/results/latest.txt (raw JSON lines to
# bench/results/latest.jsonl).
#
# usage: bench/run.sh [--threads N] [--rounds N] [--bin PATH]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source bench/common.sh

threads=2
rounds=3
bin=build/cpu/bench/bench_ops

usage() { sed -n '2,8s/^# \{0,1\}//p' "$0" >&2; exit "$1"; }
while (($#)); do
  case $1 in
    --threads) threads=${2:?--threads needs a value}; shift 2 ;;
    --rounds) rounds=${2:?--rounds needs a value}; shift 2 ;;
    --bin) bin=${2:?--bin needs a value}; shift 2 ;;
    -h | --help) usage 0 ;;
    *) echo "bench: unknown argument '$1'" >&2; usage 2 ;;
  esac
done
[[ $threads =~ ^[1-9][0-9]*$ && $rounds =~ ^[1-9][0-9]*$ ]] \
  || { echo "bench: --threads and --rounds expect positive integers" >&2; exit 2; }

bench_preflight bench "$bin"
same_threads "$threads"

mkdir -p bench/results
raw=bench/results/latest.jsonl
: >"$raw"
failed=0

# run IMPL CASE REPS: one process, its JSON line appended to $raw.
run() {
  local impl=$1 case=$2 reps=$3 line
  local args=(--case "$case" --reps "$reps" --threads "$threads")
  echo "bench: $case, $impl ($reps reps)" >&2
  if [[ $impl == cortex ]]; then
    line=$("$bin" "${args[@]}") || { echo "bench: cortex $case failed" >&2; failed=1; return 0; }
  else
    line=$("$python" bench/torch_ops.py "${args[@]}") || { echo "bench: pytorch $case failed" >&2; failed=1; return 0; }
  fi
  printf '%s\n' "$line" >>"$raw"
}

# A 4096^3 matmul is ~1 s per rep on 2 cores; the whole run stays near 1-2 minutes.
for ((r = 1; r <= rounds; r++)); do
  run cortex matmul 2
  run pytorch matmul 2
done
for ((r = 1; r <= rounds; r++)); do
  run cortex conv 5
  run pytorch conv 5
done
for ((r = 1; r <= rounds; r++)); do
  run cortex lstm 3
  run pytorch lstm 3
done
# The peak is a maximum, which noise can only lower: one round is enough.
run cortex peak 3
run pytorch peak 3

header=$(
  echo "Cortex vs PyTorch, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1) ($(nproc) cpus), threads: $threads, rounds: $rounds"
  echo "cortex: $(git rev-parse --short HEAD 2>/dev/null || echo unknown), pytorch: $("$python" -c 'import torch; print(torch.__version__)' 2>/dev/null)"
)

"$python" - "$raw" "$header" <<'PY' | tee bench/results/latest.txt
import json, statistics, sys

raw_path, header = sys.argv[1], sys.argv[2]
runs = {}  # (case, impl) -> list of JSON lines
for text in open(raw_path):
    if text.strip():
        line = json.loads(text)
        runs.setdefault((line["case"], line["impl"]), []).append(line)

def summary(case, impl):
    """(median seconds, GFLOP/s) over all rounds, or None when the case did not run."""
    lines = runs.get((case, impl))
    if not lines:
        return None
    if case == "peak":  # each line already holds its best size; keep the best line
        best = max(lines, key=lambda l: l["gflops"])
        return best["median_s"], best["gflops"], best.get("size")
    times = [t for l in lines for t in l["times"]]
    median = statistics.median(times)
    return median, lines[0]["flop"] / median / 1e9, None

peaks = {impl: summary("peak", impl) for impl in ("cortex", "pytorch")}
peak = max((p[1] for p in peaks.values() if p), default=None)

cases = [("matmul", "matmul 4096x4096x4096 f32"),
         ("conv", "conv 3x3 32->64, 128x26x26 NHWC, fwd+bwd"),
         ("lstm", "LSTM 256->256, batch 64, 100 steps, fwd+bwd"),
         ("peak", "matmul peak (best of 1024/2048/4096)")]
columns = ["case", "cortex s", "pytorch s", "ratio", "cortex GFLOP/s", "pytorch GFLOP/s",
           "cortex %peak", "pytorch %peak"]
rows = []
for case, title in cases:
    c, p = summary(case, "cortex"), summary(case, "pytorch")
    fmt = lambda v, spec: "-" if v is None else format(v, spec)
    rows.append([
        title,
        # The peak rows may come from different sizes: their times and ratio compare nothing.
        fmt(None if case == "peak" else c and c[0], ".4f"), fmt(None if case == "peak" else p and p[0], ".4f"),
        fmt(None if case == "peak" else c and p and p[0] / c[0], ".2f"),
        fmt(c and c[1], ".1f"), fmt(p and p[1], ".1f"),
        fmt(c and peak and 100 * c[1] / peak, ".0f"), fmt(p and peak and 100 * p[1] / peak, ".0f"),
    ])

widths = [max(len(str(r[i])) for r in rows + [columns]) for i in range(len(columns))]
def show(row):
    return "  ".join(str(v).ljust(w) if i == 0 else str(v).rjust(w)
                     for i, (v, w) in enumerate(zip(row, widths)))

print(header)
print()
print(show(columns))
print(show(["-" * w for w in widths]))
for row in rows:
    print(show(row))
print()
print("s: median seconds per iteration over all rounds; ratio: pytorch s / cortex s (>1: Cortex faster)")
detail = ", ".join("%s %.1f at %s" % (impl, p[1], p[2]) for impl, p in peaks.items() if p)
print("peak: the machine's measured matmul peak, best GFLOP/s of either side (%s)"
      % (detail or "not measured"))
PY

if ((failed)); then
  echo "bench: some runs failed; their cells show '-'" >&2
  exit 1
fi
