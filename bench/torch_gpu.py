#!/usr/bin/env python3
"""PyTorch's side of the GPU benchmark (bench/gpu_check.sh runs it beside bench_gpu).

Same protocol as bench/bench_gpu.cpp, so the two columns compare:
  * the data lives in host memory (synthetic, drawn once, seed 0); every step copies its batch to
    the GPU, runs forward, loss, backward and the optimiser update;
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
Prints one JSON line per row.
"""
import argparse
import json
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


def run(name, precision, fmt, steps, warmup, rounds, epoch):
    spec = SPECS[name]
    torch.manual_seed(0)
    dev = torch.device("cuda")
    model = spec["make"]().to(dev).to(memory_format=fmt)
    opt = spec["opt"](model.parameters())
    n = 60000 if epoch else spec["batch"] * 8
    x_host = torch.rand((n,) + spec["shape"])
    y_host = torch.randint(0, 10, (n,))
    batch = spec["batch"]

    def step(i):
        lo = (i * batch) % n
        xb = x_host[lo:lo + batch].to(dev).contiguous(memory_format=fmt)
        yb = y_host[lo:lo + batch].to(dev)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=precision == "bf16"):
            loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    model.train()
    for i in range(warmup):
        step(i)
    torch.cuda.synchronize()
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for i in range(steps):
            step(i)
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    ips = [steps * batch / t for t in times]
    row = dict(side="pytorch", model=name, precision=precision,
               format="channels_last" if fmt == torch.channels_last else "nchw",
               images_per_s=statistics.median(ips), min=min(ips), max=max(ips))
    if epoch:  # one pass over 60,000 images, the last batch short
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for lo in range(0, n, batch):
            xb = x_host[lo:lo + batch].to(dev).contiguous(memory_format=fmt)
            yb = y_host[lo:lo + batch].to(dev)
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=precision == "bf16"):
                loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        torch.cuda.synchronize()
        row["epoch_s"] = time.perf_counter() - t0
    return row


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--models", default="lecture,vgg")
    ap.add_argument("--precisions", default="fp32,bf16")
    args = ap.parse_args()
    print(json.dumps(dict(torch=torch.__version__, device=torch.cuda.get_device_name(0),
                          cudnn=torch.backends.cudnn.version())), flush=True)
    for name in args.models.split(","):
        for precision in args.precisions.split(","):
            best = None
            for fmt in (torch.contiguous_format, torch.channels_last):
                row = run(name, precision, fmt, args.steps, args.warmup, args.rounds, epoch=name == "lecture")
                print(json.dumps(row), flush=True)
                if best is None or row["images_per_s"] > best["images_per_s"]:
                    best = row
            print(json.dumps(dict(best, best=True)), flush=True)


if __name__ == "__main__":
    main()
