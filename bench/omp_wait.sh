#!/usr/bin/env bash
# How OpenMP's idle threads should wait: the lecture CNN's training step
# (bench_train, batch 128) under libgomp's default spin ("default":
# GOMP_SPINCOUNT=300000), shorter spins, a passive wait, and "probe": nothing
# set, so the choice made at start by adapt_openmp_wait (what the cortex command
# does). Each runs alone and beside busy processes (core-bound loops, as other
# jobs on a shared machine: "contended" one, "contended2" two). Settings
# alternate within each round so the noise hits all alike; prints medians in
# images/s and each setting's median ratio to the default over paired rounds.
#   bash bench/omp_wait.sh [--rounds 3] [--steps 20] [--threads 2] [--loads alone,contended,contended2]
#                          [--settings default,GOMP_SPINCOUNT=10000,...]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rounds=3 steps=20 threads=2 loads=alone,contended,contended2
settings=default,probe,GOMP_SPINCOUNT=30000,GOMP_SPINCOUNT=10000,GOMP_SPINCOUNT=3000,GOMP_SPINCOUNT=1000,OMP_WAIT_POLICY=passive
while (($#)); do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --loads) loads=$2; shift 2 ;;
    --settings) settings=$2; shift 2 ;;
    *) echo "omp_wait: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
bin=build/cpu/bench/bench_train
[[ -x $bin ]] || { echo "omp_wait: $bin not found; build it first (make build)" >&2; exit 1; }
IFS=, read -ra settings <<<"$settings"
IFS=, read -ra loads <<<"$loads"
out=bench/results/omp_wait.jsonl
mkdir -p bench/results
: >"$out"
run() {  # run LOAD SETTING: one bench_train process, its images/s appended with the setting
  local load=$1 setting=$2 env=(env -u GOMP_SPINCOUNT -u OMP_WAIT_POLICY -u CORTEX_OMP_WAIT)
  case $setting in
    default) env+=(GOMP_SPINCOUNT=300000) ;;
    probe) ;;
    *) env+=("$setting") ;;
  esac
  local line
  line=$("${env[@]}" "$bin" --device cpu --models lecture --precisions fp32 --steps "$steps" --warmup 3 --rounds 1 \
         --epoch 0 --infer 0 --threads "$threads")
  python3 -c 'import json, sys; r = json.loads(sys.argv[3]); print(json.dumps({"load": sys.argv[1], "setting": sys.argv[2],
    "images_per_s": r["images_per_s"], "omp_wait": r["omp_wait"]}))' "$load" "$setting" "$line" | tee -a "$out" >&2
}
busy=()
trap '((${#busy[@]} == 0)) || kill "${busy[@]}" 2>/dev/null' EXIT
for load in "${loads[@]}"; do
  busy=()
  case $load in contended) n=1 ;; contended2) n=2 ;; *) n=0 ;; esac
  for ((i = 0; i < n; i++)); do
    bash -c 'while :; do :; done' &
    busy+=($!)
  done
  sleep 0.5
  for ((r = 1; r <= rounds; r++)); do
    for s in "${settings[@]}"; do run "$load" "$s"; done
  done
  ((${#busy[@]} == 0)) || kill "${busy[@]}"
  busy=()
done
cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
python3 - "$out" "$cpu, $(nproc) cores, $threads threads, $rounds rounds of $steps steps" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
runs = {}
for r in rows:
    runs.setdefault((r["setting"], r["load"]), []).append(r["images_per_s"])
loads = list(dict.fromkeys(r["load"] for r in rows))
print(f"Lecture CNN training, images/s (median over rounds) and the median of each round's ratio to the default; {sys.argv[2]}")
print("| wait setting | " + " | ".join(f"{l}: images/s | ratio" for l in loads) + " |")
print("| --- |" + " --- | --- |" * len(loads))
probe = {}
for r in rows:
    if r["setting"] == "probe":
        probe.setdefault(r["load"], set()).add(r["omp_wait"].split(" (")[0])
for s in dict.fromkeys(r["setting"] for r in rows):
    cells = []
    for l in loads:
        v, d = runs.get((s, l), []), runs.get(("default", l), [])
        ratio = statistics.median(a / b for a, b in zip(v, d)) if v and d else float("nan")
        cells.append(f"{statistics.median(v):.0f} | {ratio:.2f}x" if v else " | ")
    print(f"| {s} | " + " | ".join(cells) + " |")
print("probe chose: " + "; ".join(f"{l}: {', '.join(sorted(c))}" for l, c in probe.items()))
PY
