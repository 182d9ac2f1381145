#!/usr/bin/python3
"""Keras's addition_rnn in PyTorch 1.13: the twin of `cortex seq addition`.

Same data rule, model, initialisation, loss, optimiser and batching as Keras (and Cortex):
  50,000 distinct questions "a+b" (each operand 1-3 digits, each digit uniform), space-padded to 7
  characters and fed reversed, answers padded to 4; the last 10% validate.
  LSTM(128) encoder (its last output) -> RepeatVector(4) -> LSTM(128, return_sequences) -> Dense(12) softmax
  per step; Keras's initialisers (glorot_uniform kernels, orthogonal recurrent kernels, zero biases with
  the forget gate's at 1, PyTorch's second bias at 0 and untrained, as Keras has one); categorical cross-entropy on the logits; Adam
  (lr 1e-3, eps 1e-7) with the global gradient norm capped at 1 (--clipnorm; Cortex's global_clipnorm);
  batch 32, reshuffled each epoch.

Run with Debian's python3-torch (bench/addition.sh runs it beside Cortex):
  /usr/bin/python3 bench/torch_addition.py [--epochs 30] [--threads 2] [--samples 50000] [--seed 0]

Per epoch: train loss/accuracy, validation per-character accuracy and exact match, seconds. The last
line reads 'Validation exact match: 0.xxxx'; the line before it is JSON for a runner.
"""
import argparse
import json
import random
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

CHARS = "0123456789+ "


def data(samples, digits, seed):
    rng = random.Random(seed)
    seen, qs, ans = set(), [], []
    while len(qs) < samples:
        f = lambda: int("".join(rng.choice("0123456789") for _ in range(rng.randint(1, digits))))
        a, b = f(), f()
        key = tuple(sorted((a, b)))
        if key in seen:
            continue
        seen.add(key)
        qs.append((f"{a}+{b}".ljust(2 * digits + 1))[::-1])
        ans.append(str(a + b).ljust(digits + 1))
    enc = lambda strs: torch.tensor([[CHARS.index(c) for c in s] for s in strs])
    return F.one_hot(enc(qs), len(CHARS)).float(), enc(ans)


def keras_lstm(inp, units):
    lstm = nn.LSTM(inp, units, batch_first=True)
    with torch.no_grad():
        # Keras draws the whole (in, 4U) kernel with glorot over fan_in=in, fan_out=4U.
        limit = (6.0 / (inp + 4 * units)) ** 0.5
        lstm.weight_ih_l0.uniform_(-limit, limit)
        w = torch.empty(units, 4 * units)
        nn.init.orthogonal_(w)  # (U, 4U) with orthonormal rows, as Keras's Orthogonal gives it
        lstm.weight_hh_l0.copy_(w.t())
        lstm.bias_ih_l0.zero_()
        lstm.bias_ih_l0[units:2 * units] = 1.0
        lstm.bias_hh_l0.zero_()
    lstm.bias_hh_l0.requires_grad_(False)  # Keras's LSTM has one bias: the second stays at zero, untrained
    return lstm


class Addition(nn.Module):
    def __init__(self, steps_out, units=128):
        super().__init__()
        self.steps_out = steps_out
        self.encoder = keras_lstm(len(CHARS), units)
        self.decoder = keras_lstm(units, units)
        self.dense = nn.Linear(units, len(CHARS))
        limit = (6.0 / (units + len(CHARS))) ** 0.5
        with torch.no_grad():
            self.dense.weight.uniform_(-limit, limit)
            self.dense.bias.zero_()

    def forward(self, x):
        _, (h, _) = self.encoder(x)
        y, _ = self.decoder(h[0].unsqueeze(1).expand(-1, self.steps_out, -1))
        return self.dense(y)  # logits (N, T, 12)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--samples", type=int, default=50000)
    p.add_argument("--digits", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--clipnorm", type=float, default=1.0, help="global gradient norm cap (0: none), as Cortex's")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    x, y = data(a.samples, a.digits, a.seed)
    n_val = len(x) // 10
    xt, yt, xv, yv = x[:-n_val], y[:-n_val], x[-n_val:], y[-n_val:]
    model = Addition(y.shape[1])
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=1e-3, eps=1e-7)
    record = {}
    for epoch in range(a.epochs):
        start = time.time()
        model.train()
        order = torch.randperm(len(xt))
        loss_sum = hits = 0.0
        for i in range(0, len(xt), 32):
            idx = order[i:i + 32]
            logits = model(xt[idx])
            loss = F.cross_entropy(logits.reshape(-1, len(CHARS)), yt[idx].reshape(-1))
            opt.zero_grad()
            loss.backward()
            if a.clipnorm > 0:
                torch.nn.utils.clip_grad_norm_(params, a.clipnorm)
            opt.step()
            loss_sum += loss.item() * len(idx)
            hits += (logits.argmax(-1) == yt[idx]).float().mean(1).sum().item()
        train_s = time.time() - start
        model.eval()
        with torch.no_grad():
            right = model(xv).argmax(-1) == yv
        char_acc, exact = right.float().mean().item(), right.all(1).float().mean().item()
        print(f"epoch {epoch + 1}/{a.epochs}: loss {loss_sum / len(xt):.4f} accuracy {hits / len(xt):.4f} "
              f"val_accuracy {char_acc:.4f} exact {exact:.4f} {time.time() - start:.1f}s "
              f"({1000 * train_s / ((len(xt) + 31) // 32):.2f} ms/step)", flush=True)
        record = {"epochs": epoch + 1, "val_accuracy": char_acc, "exact_match": exact, "train_seconds": train_s}
    print(json.dumps(record))
    print(f"Validation exact match: {record['exact_match']:.4f}")


if __name__ == "__main__":
    main()
