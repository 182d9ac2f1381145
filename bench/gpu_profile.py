#!/usr/bin/env python3
"""Sums ncu's per-launch GPU times by kernel: where a training step's device time goes.

  ncu --profile-from-start off --clock-control none --metrics gpu__time_duration.sum --csv --page raw \\
      bench_train --models vgg --precisions fp32 --steps 2 --warmup 3 --rounds 1 --profile 1 > ncu.csv
  python3 bench/gpu_profile.py ncu.csv [steps]
"""
import csv
import sys
from collections import defaultdict


def main():
    path = sys.argv[1]
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    with open(path) as f:
        lines = [l for l in f if l.startswith('"')]
    rows = list(csv.reader(lines))
    header = rows[0]
    name_col = header.index("Kernel Name")
    time_col = header.index("gpu__time_duration.sum")
    unit = rows[1][time_col] if len(rows) > 1 else ""
    scale = {"ns": 1e-3, "nsecond": 1e-3, "us": 1.0, "usecond": 1.0, "ms": 1e3, "msecond": 1e3}[unit]
    total, by = 0.0, defaultdict(lambda: [0.0, 0])
    for r in rows[2:]:
        try:
            t = float(r[time_col].replace(",", "")) * scale
        except ValueError:
            continue
        name = r[name_col][:90]
        by[name][0] += t
        by[name][1] += 1
        total += t
    print("device time per step: %.1f us over %d launches" % (total / steps, sum(v[1] for v in by.values()) / steps))
    print("| us/step | launches/step | share | kernel |")
    print("| --- | --- | --- | --- |")
    for name, (t, n) in sorted(by.items(), key=lambda kv: -kv[1][0])[:25]:
        print("| %.1f | %.1f | %.1f%% | %s |" % (t / steps, n / steps, 100 * t / total, name))


if __name__ == "__main__":
    main()
