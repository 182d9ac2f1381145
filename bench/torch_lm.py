#!/usr/bin/python3
"""A character-level LSTM language model in PyTorch 1.13: the twin of `cortex lm train`.

Same text, split, batching, model, initialisation, loss, optimiser and time budget as Cortex:
  the King James Bible as Debian's bible-kjv writes it (`bible -l80 Gen1:1-Rev22:21`) or --text FILE;
  the vocabulary is the text's distinct bytes, sorted; the last 10 % is held out.
  Stateful truncated backpropagation through time: the training ids cut into 64 streams, each read
  100 characters at a time, the LSTM's states carried from one batch to the next (detached) and reset
  at each epoch's start.
  Embedding(V, 64) (Keras's uniform(-0.05, 0.05)) -> LSTM(512) (glorot_uniform kernel, orthogonal
  recurrent kernel, forget-gate bias 1, one bias as Keras's) -> Linear(512, V) (glorot_uniform, zero
  bias), softmax cross-entropy on the logits (Cortex fuses the softmax into the loss the same way);
  Adam (lr 2e-3, eps 1e-7) with the global gradient norm capped at 5.
  Training stops after the batch under way once --minutes have passed; after each epoch the held-out
  text is read in order (states reset) and its bits per character printed.

Run with Debian's python3-torch (bench/lm.sh runs it beside Cortex):
  /usr/bin/python3 bench/torch_lm.py [--minutes 15] [--threads 2] [--text FILE]

The last line reads 'Held-out bits/char: x.xxx'; the line before it is JSON for a runner.
"""
import argparse
import json
import math
import subprocess
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def kjv():
    return subprocess.run(["bible", "-l80", "Gen1:1-Rev22:21"], check=True, capture_output=True).stdout


def stream_batches(ids, batch, steps):
    stream = (len(ids) - 1) // batch
    batches = stream // steps
    t = torch.tensor(ids[: batch * stream + 1], dtype=torch.long)
    x = t[: batch * stream].view(batch, stream)[:, : batches * steps]
    y = t[1 : batch * stream + 1].view(batch, stream)[:, : batches * steps]
    # batch b: every stream's b-th window, (batch, steps)
    return [(x[:, b * steps : (b + 1) * steps], y[:, b * steps : (b + 1) * steps]) for b in range(batches)]


class CharLM(nn.Module):
    def __init__(self, vocab, embedding, units):
        super().__init__()
        self.embed = nn.Embedding(vocab, embedding)
        self.lstm = nn.LSTM(embedding, units, batch_first=True)
        self.dense = nn.Linear(units, vocab)
        with torch.no_grad():
            self.embed.weight.uniform_(-0.05, 0.05)
            limit = (6.0 / (embedding + 4 * units)) ** 0.5
            self.lstm.weight_ih_l0.uniform_(-limit, limit)
            w = torch.empty(units, 4 * units)
            nn.init.orthogonal_(w)
            self.lstm.weight_hh_l0.copy_(w.t())
            self.lstm.bias_ih_l0.zero_()
            self.lstm.bias_ih_l0[units : 2 * units] = 1.0
            self.lstm.bias_hh_l0.zero_()
            limit = (6.0 / (units + vocab)) ** 0.5
            self.dense.weight.uniform_(-limit, limit)
            self.dense.bias.zero_()
        # Keras's LSTM has one bias: PyTorch's second stays at zero, untrained (Adam would move the
        # pair twice as fast as one, and clipping would count its gradient twice).
        self.lstm.bias_hh_l0.requires_grad_(False)

    def forward(self, x, state):
        y, state = self.lstm(self.embed(x), state)
        return self.dense(y), state


def bits_per_char(model, batches, vocab):
    model.eval()
    total, count, state = 0.0, 0, None
    with torch.no_grad():
        for x, y in batches:
            logits, state = model(x, state)
            total += F.cross_entropy(logits.reshape(-1, vocab), y.reshape(-1), reduction="sum").item()
            count += y.numel()
    model.train()
    return total / count / math.log(2)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--text", default="")
    p.add_argument("--minutes", type=float, default=15)
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--units", type=int, default=512)
    p.add_argument("--embedding", type=int, default=64)
    p.add_argument("--learning-rate", type=float, default=2e-3)
    p.add_argument("--clipnorm", type=float, default=5.0)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    text = open(a.text, "rb").read() if a.text else kjv()
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    ids = [index[c] for c in text]
    held = len(ids) // 10
    train, held_out = stream_batches(ids[:-held], a.batch_size, a.steps), stream_batches(ids[-held:], a.batch_size, a.steps)
    vocab = len(chars)
    print(f"text: {len(ids)} characters, {vocab} distinct; {len(train)} batches per epoch, {held} held out", flush=True)
    model = CharLM(vocab, a.embedding, a.units)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=a.learning_rate, eps=1e-7)
    start, trained, train_s, held_bits, out_of_time = time.time(), 0, 0.0, float("nan"), False
    for epoch in range(a.epochs):
        epoch_start, state, loss_sum, done = time.time(), None, 0.0, 0
        for x, y in train:
            logits, state = model(x, state)
            state = tuple(s.detach() for s in state)
            loss = F.cross_entropy(logits.reshape(-1, vocab), y.reshape(-1))
            opt.zero_grad()
            loss.backward()
            if a.clipnorm > 0:
                torch.nn.utils.clip_grad_norm_(params, a.clipnorm)
            opt.step()
            loss_sum += loss.item()
            done += 1
            trained += x.numel()
            if a.minutes > 0 and time.time() - start >= a.minutes * 60:
                out_of_time = True
                break
        train_s += time.time() - epoch_start
        held_bits = bits_per_char(model, held_out, vocab)
        print(f"Epoch {epoch + 1}: train bits/char {loss_sum / done / math.log(2):.3f}, held-out bits/char "
              f"{held_bits:.3f}, {train_s:.0f} s of training so far ({1000 * (time.time() - epoch_start) / done:.0f} "
              f"ms/step)", flush=True)
        if out_of_time:
            break
    print(f"Trained on {trained} characters in {train_s:.0f} s ({trained / train_s:.0f} characters/s)")
    print(json.dumps({"epochs": epoch + 1, "held_out_bits_per_char": held_bits, "characters": trained,
                      "train_seconds": train_s, "chars_per_s": trained / train_s}))
    print(f"Held-out bits/char: {held_bits:.3f}")


if __name__ == "__main__":
    main()
