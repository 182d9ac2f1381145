#!/usr/bin/env python3
"""The training/inference table: bench_train's rows beside torch_train.py's best rows, from one run.

  python3 bench/train_table.py cortex.jsonl torch.jsonl MACHINE_LINE [PEAK_GFLOPS]

Rows of several passes merge by (model, precision) (PyTorch's also by layout): the median of the
per-pass medians, the lowest min, the highest max. PyTorch's training and inference figures are each
those of its faster layout, NCHW or channels_last, which need not be the same one. With PEAK_GFLOPS (the matrix-product peak measured in the same run) the
table adds GFLOP/s and its share of the peak (FLOPs: 3x the forward per training image, 1x for
inference; lecture CNN 24.0 MFLOP forward, VGG-style 309.7).
"""
import json
import statistics
import sys

FORWARD_MFLOP = {"lecture": 23.984896, "vgg": 309.733376}


def rows(path):
    out = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                out.append(json.loads(line))
    return out


def merge(rs, key=lambda r: (r["model"], r["precision"])):
    by = {}
    for r in rs:
        by.setdefault(key(r), []).append(r)
    out = {}
    for key, group in by.items():
        row = dict(group[0])
        for k, lo, hi in (("images_per_s", "min", "max"), ("infer_images_per_s", "infer_min", "infer_max")):
            if all(k in g for g in group):
                row[k] = statistics.median(g[k] for g in group)
                row[lo] = min(g[lo] for g in group)
                row[hi] = max(g[hi] for g in group)
        for k in ("epoch_s", "first_step_s"):
            if all(k in g for g in group):
                row[k] = statistics.median(g[k] for g in group)
        row["peak_rss_mib"] = max(g.get("peak_rss_mib", 0) for g in group)
        out[key] = row
    return out


def main():
    cortex, torch = rows(sys.argv[1]), rows(sys.argv[2])
    machine = open(sys.argv[3]).read().strip() if len(sys.argv) > 3 else ""
    peak = float(sys.argv[4]) if len(sys.argv) > 4 else None
    info = next((r for r in torch if "torch" in r), {})
    c_rows = merge(cortex)
    t_layouts = merge([r for r in torch if "side" in r and not r.get("best")],
                      key=lambda r: (r["model"], r["precision"], r.get("format", "")))

    def faster(key, k):  # PyTorch's row for `key` in the layout with the higher figure k
        rs = [r for (m, p, _), r in t_layouts.items() if (m, p) == key and k in r]
        return max(rs, key=lambda r: r[k]) if rs else None

    t_rows = {key: faster(key, "images_per_s") for key in {(m, p) for m, p, _ in t_layouts}}
    print("Machine: %s; PyTorch %s%s%s" % (machine, info.get("torch"),
                                          ", cuDNN %s" % info["cudnn"] if info.get("cudnn") else "",
                                          "; measured matmul peak %.1f GFLOP/s" % peak if peak else ""))
    print()
    print("| model | precision | what | Cortex images/s (min-max) | PyTorch images/s (layout) | ratio |"
          + (" Cortex GFLOP/s (% of peak) | PyTorch GFLOP/s (% of peak) |" if peak else "")
          + " Cortex peak RSS | PyTorch peak RSS |")
    print("| --- " * (6 + (2 if peak else 0) + 2) + "|")
    for key in sorted(c_rows):
        c = c_rows[key]
        for what, k, lo, hi, mult in (("training", "images_per_s", "min", "max", 3),
                                      ("inference", "infer_images_per_s", "infer_min", "infer_max", 1)):
            if k not in c:
                continue
            t = faster(key, k)
            tv = t.get(k) if t else None
            line = "| %s | %s | %s | %.0f (%.0f-%.0f) | %s | %s |" % (
                key[0], key[1], what, c[k], c[lo], c[hi],
                "%.0f (%s)" % (tv, t["format"]) if tv else "-", "%.2fx" % (c[k] / tv) if tv else "-")
            if peak:
                f = mult * FORWARD_MFLOP[key[0]] / 1e3
                line += " %.1f (%.0f %%) | %s |" % (c[k] * f, 100 * c[k] * f / peak,
                                                   "%.1f (%.0f %%)" % (tv * f, 100 * tv * f / peak) if tv else "-")
            line += " %.0f MiB | %s |" % (c["peak_rss_mib"], "%.0f MiB" % t["peak_rss_mib"] if t else "-")
            print(line)
    epochs = [(k, c_rows[k].get("epoch_s"), t_rows.get(k, {}).get("epoch_s")) for k in sorted(c_rows)]
    for key, ce, te in epochs:
        if ce or te:
            print("\n%s %s: one 60,000-image epoch, Cortex %s, PyTorch %s" % (
                key[0], key[1], "%.2f s" % ce if ce else "-", "%.2f s" % te if te else "-"))
    firsts = ["%s %s %.2f s" % (k[0], k[1], c_rows[k]["first_step_s"]) for k in sorted(c_rows)
              if "first_step_s" in c_rows[k]]
    if firsts:
        print("Cortex, from model creation to the end of the first training step: " + ", ".join(firsts))


if __name__ == "__main__":
    main()
