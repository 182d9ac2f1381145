#!/usr/bin/python3
"""The lecture's Keras CNN on Fashion-MNIST in PyTorch 1.13: the reference for examples/lecture_cnn.cpp.

Same model, initialisation, loss, optimiser and batching as Keras (and Cortex):
  Conv2D(32, 3x3, relu) -> Conv2D(64, 3x3, relu) -> MaxPool 2x2 -> Dropout 0.25 -> Flatten
  -> Dense 128 relu -> Dropout 0.5 -> Dense 10 softmax,
  glorot_uniform kernels with Keras's fans and zero biases, categorical cross-entropy on the logits
  (Keras's fused softmax path), Adadelta(lr=1.0, rho=0.95, eps=1e-7), batch 128, reshuffled each epoch,
  inputs x/255, validation on the test set after each epoch.

Run with Debian's python3-torch (bench/lecture_cnn.sh runs it beside Cortex):
  /usr/bin/python3 bench/torch_lecture_cnn.py [--epochs 12] [--threads 2] [--max-steps N] [--seed 0]

Per epoch it prints one line (train loss/accuracy are sample-weighted means over the epoch, in training
mode, as Keras reports them); "s" is the whole epoch, training plus validation, and ms/step is that time
over the training steps -- the same definitions as Keras's and Cortex's progress bar. --max-steps caps
the training steps of each epoch and, as in Cortex's fit, the validation steps; the final evaluation
always covers the whole test set. The last line is JSON for a runner.
"""
import argparse
import gzip
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DATA_DIR = "/usr/share/datasets/fashion-mnist"
BATCH_SIZE = 128
NUM_CLASSES = 10


def read_idx(path):
    """An IDX file (.gz) as a numpy array: big-endian magic 0x0000TTDD, then DD big-endian u32 dims."""
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        sys.exit("torch_lecture_cnn: %s not found; apt-get install dataset-fashion-mnist" % path)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        sys.exit("torch_lecture_cnn: %s is not an unsigned-byte IDX file" % path)
    ndim = raw[3]
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    offset = 4 + 4 * ndim
    count = int(np.prod(dims))
    if len(raw) - offset != count:
        sys.exit("torch_lecture_cnn: %s holds %d bytes of data, its header says %d"
                 % (path, len(raw) - offset, count))
    return np.frombuffer(raw, dtype=np.uint8, count=count, offset=offset).reshape(dims)


def load_split(data_dir, prefix):
    """(x float32 (N, 1, 28, 28) in [0, 1], y int64 (N,))."""
    x = read_idx(os.path.join(data_dir, "%s-images-idx3-ubyte.gz" % prefix))
    y = read_idx(os.path.join(data_dir, "%s-labels-idx1-ubyte.gz" % prefix))
    if x.shape[0] != y.shape[0]:
        sys.exit("torch_lecture_cnn: %s images and labels differ in count" % prefix)
    x = torch.from_numpy(x.astype(np.float32) / 255.0).unsqueeze(1)
    return x, torch.from_numpy(y.astype(np.int64))


class LectureCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3)
        self.conv2 = nn.Conv2d(32, 64, 3)
        self.drop1 = nn.Dropout(0.25)
        self.fc1 = nn.Linear(64 * 12 * 12, 128)
        self.drop2 = nn.Dropout(0.5)
        self.fc2 = nn.Linear(128, NUM_CLASSES)

    def forward(self, x):
        """The logits; the softmax lives in the loss (log_softmax + nll), as in Keras's fused path."""
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, 2)
        x = self.drop1(x)
        x = torch.flatten(x, 1)  # (C, H, W) order, not Keras's (H, W, C): same model, other weight layout
        x = F.relu(self.fc1(x))
        x = self.drop2(x)
        return self.fc2(x)


def keras_init_(model):
    """Keras defaults: glorot_uniform kernels (limit sqrt(6 / (fan_in + fan_out))), zero biases.

    Keras's fans: Dense (in, out) -> fan_in = in, fan_out = out; Conv2D (kh, kw, in, out) ->
    fan_in = kh*kw*in, fan_out = kh*kw*out. Torch's own default (kaiming_uniform with a=sqrt(5),
    uniform biases) differs, so every parameter is set here.
    """
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                out_ch, in_ch, kh, kw = m.weight.shape
                fan_in, fan_out = kh * kw * in_ch, kh * kw * out_ch
            elif isinstance(m, nn.Linear):
                fan_out, fan_in = m.weight.shape
            else:
                continue
            limit = math.sqrt(6.0 / (fan_in + fan_out))
            m.weight.uniform_(-limit, limit)
            m.bias.zero_()


def evaluate(model, x, y, max_steps=0, memory_format=torch.contiguous_format):
    """(loss, accuracy), sample-weighted over the batches seen, in eval mode (no dropout)."""
    model.eval()
    loss_sum, hits, seen = 0.0, 0, 0
    with torch.no_grad():
        for step, i in enumerate(range(0, x.shape[0], BATCH_SIZE)):
            if max_steps and step == max_steps:
                break
            xb = x[i:i + BATCH_SIZE].contiguous(memory_format=memory_format)
            yb = y[i:i + BATCH_SIZE]
            logits = model(xb)
            loss_sum += F.nll_loss(F.log_softmax(logits, dim=1), yb, reduction="sum").item()
            hits += (logits.argmax(dim=1) == yb).sum().item()
            seen += yb.shape[0]
    model.train()
    return loss_sum / seen, hits / seen


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    p.add_argument("--max-steps", type=int, default=0,
                   help="cap the training (and validation) steps of each epoch; 0: no cap")
    p.add_argument("--seed", type=int, default=0, help="initialisation, shuffling and dropout")
    p.add_argument("--channels-last", action="store_true", help="use torch.channels_last memory format")
    p.add_argument("--data-dir", default=DATA_DIR)
    a = p.parse_args()
    if a.epochs < 1 or a.threads < 1 or a.max_steps < 0:
        p.error("--epochs and --threads expect positive integers, --max-steps a non-negative one")

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    memory_format = torch.channels_last if a.channels_last else torch.contiguous_format

    x_train, y_train = load_split(a.data_dir, "train")
    x_test, y_test = load_split(a.data_dir, "t10k")
    print("x_train shape: %s" % (list(x_train.shape),))
    print("%d train samples\n%d test samples" % (x_train.shape[0], x_test.shape[0]))
    print("torch %s, %d threads, seed %d%s" % (torch.__version__, torch.get_num_threads(), a.seed,
                                                ", channels_last" if a.channels_last else ""))

    model = LectureCNN()
    keras_init_(model)
    model = model.to(memory_format=memory_format)
    print("Total params: {:,}".format(sum(p.numel() for p in model.parameters())))
    opt = torch.optim.Adadelta(model.parameters(), lr=1.0, rho=0.95, eps=1e-7)
    shuffler = torch.Generator().manual_seed(a.seed)

    n = x_train.shape[0]
    steps = (n + BATCH_SIZE - 1) // BATCH_SIZE  # the last batch is partial, as in Keras
    if a.max_steps:
        steps = min(steps, a.max_steps)
    seconds, train_seconds = [], []
    for epoch in range(a.epochs):
        start = time.perf_counter()
        model.train()
        order = torch.randperm(n, generator=shuffler)
        loss_sum, hits, seen = 0.0, 0, 0
        for step in range(steps):
            idx = order[step * BATCH_SIZE:(step + 1) * BATCH_SIZE]
            xb = x_train[idx].contiguous(memory_format=memory_format)
            yb = y_train[idx]
            logits = model(xb)
            loss = F.nll_loss(F.log_softmax(logits, dim=1), yb)  # categorical cross-entropy, batch mean
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * yb.shape[0]
            hits += (logits.detach().argmax(dim=1) == yb).sum().item()
            seen += yb.shape[0]
        trained = time.perf_counter()
        val_loss, val_acc = evaluate(model, x_test, y_test, a.max_steps, memory_format)
        elapsed = time.perf_counter() - start
        seconds.append(elapsed)
        train_seconds.append(trained - start)
        print("Epoch %d/%d - loss: %.4f - accuracy: %.4f - test_loss: %.4f - test_accuracy: %.4f"
              " - %.1fs %.0fms/step (train %.1fs)"
              % (epoch + 1, a.epochs, loss_sum / seen, hits / seen, val_loss, val_acc,
                 elapsed, 1e3 * elapsed / steps, trained - start), flush=True)

    test_loss, test_acc = evaluate(model, x_test, y_test, 0, memory_format)
    print("Test loss: %.4f" % test_loss)
    print("Test accuracy: %.4f" % test_acc)
    print(json.dumps({"impl": "pytorch", "epochs": a.epochs, "test_accuracy": test_acc, "test_loss": test_loss,
                      "seconds_per_epoch": [round(s, 3) for s in seconds],
                      "train_seconds_per_epoch": [round(s, 3) for s in train_seconds],
                      "steps_per_epoch": steps, "threads": a.threads, "seed": a.seed,
                      "torch": torch.__version__}), flush=True)


if __name__ == "__main__":
    main()
