#!/usr/bin/env python3
"""The GPU table: bench_gpu's rows beside torch_gpu.py's best rows, from the same run.

  python3 bench/gpu_table.py cortex.jsonl torch.jsonl gpu.txt
"""
import json
import sys


def rows(path):
    out = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                out.append(json.loads(line))
    return out


def main():
    cortex, torch, gpu = rows(sys.argv[1]), rows(sys.argv[2]), open(sys.argv[3]).read().strip()
    info = next((r for r in torch if "torch" in r), {})
    best = {(r["model"], r["precision"]): r for r in torch if r.get("best")}
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
