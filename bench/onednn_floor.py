#!/usr/bin/env python3
"""Where a Cortex training step's time goes inside oneDNN: runs bench_train on
the CPU with ONEDNN_VERBOSE=1 and prints, for each primitive and problem, its
calls per step, the median time of one call, and their product, with the sum:
the time that oneDNN's own kernels take per step, before anything of Cortex's.

    python3 bench/onednn_floor.py [--model lecture] [--steps 10] [--threads 2]

Calls per step come from the steps bench_train runs (1 untimed first step,
--warmup, then --steps); verbose mode adds a little to each call."""
import argparse
import collections
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="lecture")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--bin", default=os.path.join(ROOT, "build/cpu/bench/bench_train"))
    a = ap.parse_args()
    if not os.access(a.bin, os.X_OK):
        sys.exit(f"onednn_floor: expected the bench_train binary at {a.bin}; build it first (make bench builds it)")
    cmd = [a.bin, "--device", "cpu", "--models", a.model, "--precisions", "fp32", "--steps", str(a.steps),
           "--warmup", str(a.warmup), "--rounds", "1", "--epoch", "0", "--infer", "0", "--threads", str(a.threads),
           "--breakdown", "0"]
    env = dict(os.environ, ONEDNN_VERBOSE="1")
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    steps = 1 + a.warmup + a.steps
    calls = collections.defaultdict(list)
    for line in out.splitlines():
        f = line.split(",")
        if len(f) < 6 or f[0] not in ("onednn_verbose", "dnnl_verbose") or f[1] != "exec":
            continue
        calls[(f[3], f[4], f[5], f[-2])].append(float(f[-1]))
    if not calls:
        sys.exit("onednn_floor: bench_train printed no oneDNN verbose lines (is ONEDNN_VERBOSE supported by this build?)")
    rows = []
    for (kind, impl, prop, problem), t in calls.items():
        per_step = len(t) / steps
        if per_step < 0.5:  # one-off calls: shape inference, the first batch of a layer
            continue
        rows.append((statistics.median(t) * round(per_step), kind, impl, prop, problem, round(per_step), statistics.median(t)))
    rows.sort(reverse=True)
    print(f"oneDNN primitives per {a.model} training step on cpu ({a.threads} threads, {steps} steps seen)")
    print("| primitive | implementation | problem | calls per step | median ms per call | ms per step |")
    print("| --- | --- | --- | --- | --- | --- |")
    for ms, kind, impl, prop, problem, n, med in rows:
        print(f"| {kind} {prop if prop != 'undef' else ''} | {impl} | {problem} | {n} | {med:.2f} | {ms:.2f} |")
    print(f"| **all** | | | | | **{sum(r[0] for r in rows):.1f}** |")


if __name__ == "__main__":
    main()
