#!/usr/bin/env python3
"""Golden files for the recurrent layers (tests/nn/recurrent_golden_test.cpp).

Run by hand with Debian's PyTorch (python3-torch 1.13), from the repository root:
    /usr/bin/python3 tools/make_rnn_goldens.py

Each case writes tests/goldens/rnn_<case>.json: the layer's Keras config, the
input, the mask (if any), the initial states (if any), the weights in Keras's
layout (kernel (F, G*U), recurrent_kernel (U, G*U), bias (G*U) or (2, 3U) for a
GRU with reset_after), the outputs (the output, then the final states), an
upstream gradient per output, and the gradients of the input, of the initial
states and of every weight.

The reference is Keras's time loop written in torch maths in float64 (masked
steps carry the states; with return_sequences their outputs are zero;
go_backwards reads from the end and emits in that order). It is checked against
torch.nn.LSTM / GRU / RNN with the weights mapped from Keras's layout (PyTorch's
GRU is Keras's reset_after=True): on the whole sequence without a mask, and for
right-padded masks against pack_padded_sequence's final states.
"""
import json
import os

import torch
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence

from make_goldens import OUT, as_json

SEED = 2026
GATES = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}
ACT = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": F.relu, "linear": lambda t: t}


def draw(shape, gen, scale=1.0):
    return (torch.randn(shape, generator=gen, dtype=torch.float64) * scale).float().double()


def weights(cls, c, features, gen):
    u, g = c["units"], GATES[cls] * c["units"]
    w = {"kernel": draw([features, g], gen, features ** -0.5), "recurrent_kernel": draw([u, g], gen, u ** -0.5)}
    if c.get("use_bias", True):
        w["bias"] = draw([2, g] if cls == "GRU" and c.get("reset_after", True) else [g], gen, 0.5)
    return w


def step(cls, c, w, xt, states):
    """One of Keras's cells on xt (N, F): the new states, the output first."""
    u = c["units"]
    act, gate = ACT[c.get("activation", "tanh")], ACT[c.get("recurrent_activation", "sigmoid")]
    h = states[0]
    bias = w.get("bias")
    if cls == "SimpleRNN":
        return [act(xt @ w["kernel"] + (bias if bias is not None else 0) + h @ w["recurrent_kernel"])]
    if cls == "LSTM":
        z = xt @ w["kernel"] + (bias if bias is not None else 0) + h @ w["recurrent_kernel"]
        i, f, g, o = z.split(u, 1)
        cc = gate(f) * states[1] + gate(i) * act(g)
        return [gate(o) * act(cc), cc]
    if c.get("reset_after", True):
        xw = xt @ w["kernel"] + (bias[0] if bias is not None else 0)
        hw = h @ w["recurrent_kernel"] + (bias[1] if bias is not None else 0)
        xz, xr, xh = xw.split(u, 1)
        hz, hr, hh = hw.split(u, 1)
        z, r = gate(xz + hz), gate(xr + hr)
        return [z * h + (1 - z) * act(xh + r * hh)]
    xw = xt @ w["kernel"] + (bias if bias is not None else 0)
    xz, xr, xh = xw.split(u, 1)
    rk = w["recurrent_kernel"]
    z, r = gate(xz + h @ rk[:, :u]), gate(xr + h @ rk[:, u:2 * u])
    return [z * h + (1 - z) * act(xh + (r * h) @ rk[:, 2 * u:])]


def keras_rnn(cls, c, w, x, mask, initial):
    n, t_len = x.shape[0], x.shape[1]
    states = list(initial) if initial else [torch.zeros(n, c["units"], dtype=x.dtype)] * (2 if cls == "LSTM" else 1)
    outs = []
    order = range(t_len - 1, -1, -1) if c.get("go_backwards") else range(t_len)
    for t in order:
        new = step(cls, c, w, x[:, t], states)
        if mask is not None:
            m = mask[:, t].unsqueeze(1)
            new = [torch.where(m, a, b) for a, b in zip(new, states)]
            outs.append(torch.where(m, new[0], torch.zeros_like(new[0])))
        else:
            outs.append(new[0])
        states = new
    y = torch.stack(outs, 1) if c.get("return_sequences") else states[0]
    return [y] + (states if c.get("return_state") else [])


def torch_module(cls, c, w, features):
    """torch.nn's layer holding the same weights (Keras's single bias goes to bias_ih, bias_hh is zero)."""
    u = c["units"]
    mod = {"SimpleRNN": torch.nn.RNN, "LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU}[cls](
        features, u, batch_first=True, bias=c.get("use_bias", True)).double()
    k, rk = w["kernel"].t(), w["recurrent_kernel"].t()
    if cls == "GRU":  # Keras [z, r, h], torch [r, z, n]
        perm = lambda m: torch.cat([m[u:2 * u], m[:u], m[2 * u:]])
        k, rk = perm(k), perm(rk)
    with torch.no_grad():
        mod.weight_ih_l0.copy_(k)
        mod.weight_hh_l0.copy_(rk)
        if "bias" in w:
            b = w["bias"]
            if cls == "GRU":
                mod.bias_ih_l0.copy_(torch.cat([b[0][u:2 * u], b[0][:u], b[0][2 * u:]]))
                mod.bias_hh_l0.copy_(torch.cat([b[1][u:2 * u], b[1][:u], b[1][2 * u:]]))
            else:
                mod.bias_ih_l0.copy_(b)
                mod.bias_hh_l0.zero_()
    return mod


def check_against_torch(cls, c, w, x, mask, initial, ours):
    """Our loop against torch.nn's layer where torch's layer has the same semantics."""
    if cls == "GRU" and not c.get("reset_after", True):
        return "Keras's reset_before GRU has no torch.nn twin: the loop above is its formula"
    mod = torch_module(cls, c, w, x.shape[2])
    xin = x.flip(1) if c.get("go_backwards") else x
    hx = None
    if initial:
        hx = (initial[0].unsqueeze(0), initial[1].unsqueeze(0)) if cls == "LSTM" else initial[0].unsqueeze(0)
    with torch.no_grad():
        if mask is None:
            y, hn = mod(xin, hx)
            theirs_h = hn[0][0] if cls == "LSTM" else hn[0]
            if c.get("return_sequences") and (y - ours[0]).abs().max() > 1e-10:
                raise SystemExit(f"{cls}: the Keras loop and torch.nn disagree on the outputs")
            what = "outputs and final state"
        else:  # right padding only: packed sequences give the final states at each sample's last real step
            lengths = mask.sum(1)
            if not torch.equal(mask, torch.arange(x.shape[1]).unsqueeze(0) < lengths.unsqueeze(1)) or \
                    c.get("go_backwards"):
                return "a mask that is not right padding (or go_backwards) has no torch.nn twin"
            _, hn = mod(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False), hx)
            theirs_h = hn[0][0] if cls == "LSTM" else hn[0]
            what = "final state with pack_padded_sequence"
        if c.get("return_state"):
            final_h = ours[1]
        elif c.get("return_sequences"):
            if mask is not None:
                return "the outputs of masked steps are zero: compared through the final state only with return_state"
            final_h = ours[0][:, -1]
        else:
            final_h = ours[0]
        if (theirs_h - final_h).abs().max() > 1e-10:
            raise SystemExit(f"{cls}: the Keras loop and torch.nn disagree on the final state")
    return f"checked against torch.nn.{mod.__class__.__name__} ({what})"


def case(name, cls, c, shape, gen, mask_lengths=None, mask_explicit=None, with_initial=False):
    n, t_len, features = shape
    w = {k: v.requires_grad_(True) for k, v in weights(cls, c, features, gen).items()}
    x = draw(shape, gen).requires_grad_(True)
    mask = None
    if mask_lengths is not None:
        mask = torch.arange(t_len).unsqueeze(0) < torch.tensor(mask_lengths).unsqueeze(1)
    if mask_explicit is not None:
        mask = torch.tensor(mask_explicit, dtype=torch.bool)
    initial = None
    if with_initial:
        initial = [draw([n, c["units"]], gen, 0.5).requires_grad_(True) for _ in range(2 if cls == "LSTM" else 1)]
    outs = keras_rnn(cls, c, w, x, mask, initial)
    note = check_against_torch(cls, c, {k: v.detach() for k, v in w.items()}, x.detach(), mask,
                               [s.detach() for s in initial] if initial else None, [o.detach() for o in outs])
    ups = [draw(list(o.shape), gen) for o in outs]
    sum((o * u).sum() for o, u in zip(outs, ups)).backward()
    record = {"seed": SEED, "layer": {"class_name": cls, "config": c}, "reference": note,
              "input": as_json(x, True),
              "mask": None if mask is None else {"shape": list(mask.shape), "values": mask.flatten().int().tolist()},
              "initial_state": [as_json(s, True) for s in initial] if initial else [],
              "params": {k: as_json(v, True) for k, v in w.items()},
              "outputs": [as_json(o, False) for o in outs],
              "upstream": [as_json(u, True) for u in ups],
              "grad_input": as_json(x.grad, False),
              "grad_initial_state": [as_json(s.grad, False) for s in initial] if initial else [],
              "grads": {k: as_json(v.grad, False) for k, v in w.items()}}
    path = os.path.join(OUT, f"rnn_{name}.json")
    with open(path, "w") as f:
        f.write("{\n" + ",\n".join(f" {json.dumps(k)}: {json.dumps(v)}" for k, v in record.items()) + "\n}\n")
    print(f"wrote {os.path.relpath(path)} ({os.path.getsize(path)} bytes): {note}")


def main():
    gen = torch.Generator().manual_seed(SEED)
    seq = {"return_sequences": True}
    case("lstm_sequences_state", "LSTM", {"units": 5, **seq, "return_state": True}, [3, 4, 6], gen)
    case("lstm_last_padded", "LSTM", {"units": 4, "return_state": True}, [3, 5, 3], gen, mask_lengths=[5, 3, 1])
    case("lstm_backwards_mask", "LSTM", {"units": 4, **seq, "go_backwards": True}, [2, 4, 3], gen,
         mask_explicit=[[1, 0, 1, 1], [0, 1, 1, 0]])
    case("lstm_initial_state_no_bias", "LSTM", {"units": 3, "use_bias": False, "return_state": True}, [2, 3, 4], gen,
         with_initial=True)
    case("gru_sequences", "GRU", {"units": 5, **seq}, [3, 4, 6], gen)
    case("gru_last_padded_state", "GRU", {"units": 4, "return_state": True}, [3, 5, 3], gen, mask_lengths=[2, 5, 4])
    case("gru_reset_before", "GRU", {"units": 4, **seq, "reset_after": False}, [2, 3, 5], gen)
    case("gru_backwards_initial", "GRU", {"units": 3, "go_backwards": True, "return_state": True}, [2, 4, 3], gen,
         with_initial=True)
    case("simple_rnn_sequences", "SimpleRNN", {"units": 5, **seq}, [3, 4, 6], gen)
    case("simple_rnn_mask_backwards_relu", "SimpleRNN", {"units": 4, "activation": "relu", **seq,
                                                          "go_backwards": True}, [2, 4, 3], gen,
         mask_explicit=[[1, 1, 0, 1], [1, 0, 0, 1]])


if __name__ == "__main__":
    main()
