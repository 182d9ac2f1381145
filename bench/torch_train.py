#!/usr/bin/env python3
"""PyTorch's side of the training and inference benchmarks (bench/gpu_check.sh and
bench/cpu_train.sh run it beside bench_train).

Same protocol as bench/bench_train.cpp, so the two columns compare:
  * the data lives in host memory (synthetic, drawn once, seed 0); every step copies its batch to
    the device (a no-op on the CPU), runs forward, loss, backward and the optimiser update;
  * `steps` timed steps after `warmup` untimed ones, the GPU synchronised before each clock read;
    the median of `rounds` rounds is reported as images/s;
  * "epoch": the lecture CNN over 60,000 images (469 steps of 128, the last one 96), timed the same way.
Models:
  lecture  Conv2D 32 -> Conv2D 64 -> MaxPool 2 -> Dropout 0.25 -> Flatten -> Dense 128 -> Dropout 0.5
           -> Dense 10 on 28x28x1, batch 128, Adadelta(1.0, 0.95, 1e-7), softmax cross-entropy;
  vgg      [Conv 64 x2, pool] [Conv 128 x2, pool] [Conv 256 x2, pool] Dense 512 Dense 10 on 32x32x3,
           batch 256, SGD(0.01, momentum 0.9).
PyTorch runs eagerly with its defaults (cuDNN may use TF32 for fp32 convolutions, matmuls stay fp32);
each model runs in NCHW and channels_last and the faster is reported, as a user would pick it.
bf16 rows use torch.autocast(dtype=torch.bfloat16) with fp32 master weights.
--infer adds inference: the model in eval mode over 10,000 images in batches of 1,000, no grad.
On the CPU, --threads sets torch.set_num_threads (run it with /usr/bin/python3, Debian's python3-torch,
and LD_LIBRARY_PATH pointing at OpenBLAS's OpenMP build, as bench/cpu_train.sh does).
Prints one JSON line per row, with the process's peak RSS so far.
"""
import argparse
import json
import resource
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Lecture(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3)
        self.conv2 = nn.Conv2d(32, 64, 3)
        self.fc1 = nn.Linear(64 * 12 * 12, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.dropout(F.max_pool2d(x, 2), 0.25, self.training)
        x = F.dropout(F.relu(self.fc1(torch.flatten(x, 1))), 0.5, self.training)
        return self.fc2(x)


class VGG(nn.Module):
    def __init__(self):
        super().__init__()
        layers, c = [], 3
        for width in (64, 128, 256):
            layers += [nn.Conv2d(c, width, 3, padding=1), nn.ReLU(inplace=True),
                       nn.Conv2d(width, width, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
            c = width
        self.features = nn.Sequential(*layers)
        self.fc1 = nn.Linear(256 * 4 * 4, 512)
        self.fc2 = nn.Linear(512, 10)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(torch.flatten(self.features(x), 1))))


SPECS = {
    "lecture": dict(make=Lecture, shape=(1, 28, 28), batch=128,
                    opt=lambda p: torch.optim.Adadelta(p, lr=1.0, rho=0.95, eps=1e-7)),
    "vgg": dict(make=VGG, shape=(3, 32, 32), batch=256,
                opt=lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9)),
}


def sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run(name, precision, fmt, steps, warmup, rounds, epoch, dev, infer):
    spec = SPECS[name]
    torch.manual_seed(0)
    model = spec["make"]().to(dev).to(memory_format=fmt)
    opt = spec["opt"](model.parameters())
    # The same image count as bench_train holds, so that peak RSS compares.
    n = 60000 if epoch else max(spec["batch"] * max(steps, warmup), 10000 if infer else 0)
    x_host = torch.rand((n,) + spec["shape"])
    y_host = torch.randint(0, 10, (n,))
    batch = spec["batch"]

    def step_at(lo):
        """One training step on the images from lo (fewer at the end of the data)."""
        xb = x_host[lo:lo + batch].to(dev).contiguous(memory_format=fmt)
        yb = y_host[lo:lo + batch].to(dev)
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=precision == "bf16"):
            loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    def step(i):
        return step_at((i * batch) % n)

    model.train()
    for i in range(warmup):
        step(i)
    sync(dev)
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for i in range(steps):
            step(i)
        sync(dev)
        times.append(time.perf_counter() - t0)
    ips = [steps * batch / t for t in times]
    row = dict(side="pytorch", model=name, precision=precision,
               format="channels_last" if fmt == torch.channels_last else "nchw",
               images_per_s=statistics.median(ips), min=min(ips), max=max(ips))
    if epoch:  # one pass over 60,000 images, the last batch short
        sync(dev)
        t0 = time.perf_counter()
        for lo in range(0, n, batch):
            step_at(lo)
        sync(dev)
        row["epoch_s"] = time.perf_counter() - t0
    if infer:  # 10,000 images in batches of 1,000, after one untimed batch
        model.eval()
        xi = x_host[:10000]
        rates = []
        with torch.no_grad(), torch.autocast(dev.type, dtype=torch.bfloat16, enabled=precision == "bf16"):
            model(xi[:1000].to(dev).contiguous(memory_format=fmt))
            for _ in range(rounds):
                t0 = time.perf_counter()
                for lo in range(0, 10000, 1000):
                    model(xi[lo:lo + 1000].to(dev).contiguous(memory_format=fmt)).cpu()
                sync(dev)
                rates.append(10000 / (time.perf_counter() - t0))
        row.update(infer_images_per_s=statistics.median(rates), infer_min=min(rates), infer_max=max(rates))
    row["peak_rss_mib"] = peak_rss_mib()
    return row


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--models", default="lecture,vgg")
    ap.add_argument("--precisions", default="fp32,bf16")
    ap.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (CPU)")
    ap.add_argument("--epoch", type=int, default=1, help="also time one 60,000-image lecture epoch")
    ap.add_argument("--infer", type=int, default=0)
    args = ap.parse_args()
    dev = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(json.dumps(dict(torch=torch.__version__,
                          device=torch.cuda.get_device_name(0) if dev.type == "cuda" else "cpu",
                          cudnn=torch.backends.cudnn.version() if dev.type == "cuda" else None)), flush=True)
    for name in args.models.split(","):
        for precision in args.precisions.split(","):
            best = None
            for fmt in (torch.contiguous_format, torch.channels_last):
                row = run(name, precision, fmt, args.steps, args.warmup, args.rounds,
                          epoch=name == "lecture" and args.epoch, dev=dev, infer=args.infer)
                print(json.dumps(row), flush=True)
                if best is None or row["images_per_s"] > best["images_per_s"]:
                    best = row
            print(json.dumps(dict(best, best=True)), flush=True)


if __name__ == "__main__":
    main()
