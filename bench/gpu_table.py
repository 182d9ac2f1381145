#!/usr/bin/env python3
"""The GPU table: bench_train's rows beside torch_train.py's best rows, from the same run.

  python3 bench/gpu_table.py cortex.jsonl torch.jsonl gpu.txt
"""
import json
import statistics
import sys


def rows(path):
    out = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                out.append(json.loads(line))
    return out


def merge(rs):
    """Rows of several passes of one benchmark, by (model, precision): the median of their medians,
    the lowest min, the highest max, the median epoch time."""
    by = {}
    for r in rs:
        by.setdefault((r["model"], r["precision"]), []).append(r)
    out = []
    for key, group in by.items():
        row = dict(group[0])
        row["images_per_s"] = statistics.median(g["images_per_s"] for g in group)
        row["min"] = min(g["min"] for g in group)
        row["max"] = max(g["max"] for g in group)
        row["passes"] = len(group)
        if all("epoch_s" in g for g in group):
            row["epoch_s"] = statistics.median(g["epoch_s"] for g in group)
        out.append(row)
    return out


def main():
    cortex, torch, gpu = rows(sys.argv[1]), rows(sys.argv[2]), open(sys.argv[3]).read().strip()
    info = next((r for r in torch if "torch" in r), {})
    cortex = merge(cortex)
    # PyTorch: per pass the faster layout, then merged over the passes.
    best = {(r["model"], r["precision"]): r for r in merge([r for r in torch if r.get("best")])}
    print("GPU: %s; PyTorch %s, cuDNN %s" % (gpu, info.get("torch"), info.get("cudnn")))
    print()
    print("| model | precision | Cortex images/s (median, min-max) | PyTorch images/s (best layout) | ratio | "
          "Cortex epoch | PyTorch epoch |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for c in cortex:
        t = best.get((c["model"], c["precision"]))
        ratio = "%.2fx" % (c["images_per_s"] / t["images_per_s"]) if t else "-"
        tcol = "%.0f (%s)" % (t["images_per_s"], t["format"]) if t else "-"
        print("| %s | %s | %.0f (%.0f-%.0f) | %s | %s | %s | %s |" % (
            c["model"], c["precision"], c["images_per_s"], c["min"], c["max"], tcol, ratio,
            "%.2f s" % c["epoch_s"] if "epoch_s" in c else "-",
            "%.2f s" % t["epoch_s"] if t and "epoch_s" in t else "-"))
    for key, t in sorted(best.items()):
        if not any((c["model"], c["precision"]) == key for c in cortex):
            print("| %s | %s | - | %.0f (%s) | - | - | %s |" % (
                key[0], key[1], t["images_per_s"], t["format"],
                "%.2f s" % t["epoch_s"] if "epoch_s" in t else "-"))


if __name__ == "__main__":
    main()
