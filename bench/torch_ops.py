#!/usr/bin/python3
"""PyTorch side of bench/run.sh: the same cases as bench_ops.cpp, one JSON line each.

Run with Debian's python3-torch: /usr/bin/python3 bench/torch_ops.py --case conv --reps 5
"""
import argparse
import json
import statistics
import sys
import time

import torch
import torch.nn.functional as F

WARMUP = 2
PEAK_SIZES = (1024, 2048, 4096)


def timed(step, reps, before=None):
    """Runs step() WARMUP times untimed, then reps times timed; returns the times (s)."""
    times = []
    for i in range(WARMUP + reps):
        if before is not None:
            before()
        start = time.perf_counter()
        step()
        elapsed = time.perf_counter() - start
        if i >= WARMUP:
            times.append(elapsed)
    return times


def matmul_times(n, reps):
    a = torch.randn(n, n)
    b = torch.randn(n, n)
    with torch.no_grad():
        return timed(lambda: torch.matmul(a, b), reps)


def result(case, times, flop, **extra):
    median = statistics.median(times)
    line = {"case": case, "impl": "pytorch", "median_s": median, "times": times,
            "gflops": flop / median / 1e9, "flop": flop}
    line.update(extra)
    return line


def bench_matmul(reps):
    n = 4096
    return result("matmul", matmul_times(n, reps), 2.0 * n * n * n, shape=[n, n, n])


def bench_conv(reps):
    # The lecture CNN's second conv layer: 32 -> 64 channels, 3x3, valid, with bias,
    # on a batch of 128 26x26 maps, stored channels_last (NHWC, as Cortex stores it).
    n, c, h, w, o, k = 128, 32, 26, 26, 64, 3
    x = torch.randn(n, c, h, w).to(memory_format=torch.channels_last).requires_grad_()
    weight = torch.randn(o, c, k, k).to(memory_format=torch.channels_last).requires_grad_()
    bias = torch.randn(o).requires_grad_()
    params = (x, weight, bias)

    def clear_grads():
        for p in params:
            p.grad = None

    def step():
        y = F.conv2d(x, weight, bias)  # (N, O, 24, 24), channels_last
        y.sum().backward()

    times = timed(step, reps, before=clear_grads)
    oh, ow = h - k + 1, w - k + 1
    forward = 2.0 * n * oh * ow * o * k * k * c
    return result("conv", times, 3.0 * forward, input=[n, h, w, c], filters=o, kernel=[k, k])


def bench_lstm(reps):
    # One LSTM layer over a whole sequence, forward and backward (input, weights): batch 64, 100 steps,
    # 256 features in, 256 units, f32, batch first (Cortex's (N, T, F)).
    n, t, f, u = 64, 100, 256, 256
    lstm = torch.nn.LSTM(f, u, batch_first=True)
    x = torch.randn(n, t, f).requires_grad_()
    params = [x, *lstm.parameters()]

    def clear_grads():
        for p in params:
            p.grad = None

    def step():
        y, _ = lstm(x)  # (N, T, U)
        y.sum().backward()

    times = timed(step, reps, before=clear_grads)
    forward = 2.0 * n * t * (f + u) * 4 * u
    return result("lstm", times, 3.0 * forward, batch=n, steps=t, features=f, units=u)


def bench_peak(reps):
    best = None
    per_size = {}
    for n in PEAK_SIZES:
        line = result("peak", matmul_times(n, reps), 2.0 * n * n * n, size=n)
        per_size[str(n)] = line["gflops"]
        if best is None or line["gflops"] > best["gflops"]:
            best = line
    best["per_size_gflops"] = per_size
    return best


CASES = {"matmul": bench_matmul, "conv": bench_conv, "lstm": bench_lstm, "peak": bench_peak}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=sorted(CASES), action="append",
                        help="case to run (repeatable; default: all)")
    parser.add_argument("--reps", type=int, default=5, help="timed repetitions after %d warm-ups" % WARMUP)
    parser.add_argument("--threads", type=int, default=2, help="intra-op threads")
    args = parser.parse_args()
    if args.reps < 1 or args.threads < 1:
        parser.error("--reps and --threads must be at least 1")

    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    for case in args.case or ["matmul", "conv", "lstm", "peak"]:
        line = CASES[case](args.reps)
        line["threads"] = args.threads
        print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
