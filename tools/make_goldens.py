#!/usr/bin/env python3
"""Golden files for tests/optim: three steps of every optimiser, from PyTorch.

Run by hand with Debian's PyTorch (python3-torch 1.13), from the repository root:
    /usr/bin/python3 tools/make_goldens.py
It writes tests/goldens/optim_<case>.json: the hyperparameters (our config
JSON), the parameters before, the gradients of each step (null: that parameter
has no gradient at that step and must be skipped) and the parameters after
each step. Everything is float32; the seed is recorded in each file.

Where PyTorch's formula is Keras's (SGD at a fixed rate, Adadelta) the golden
is torch.optim's own output, and the Keras formula written out below must agree
with it. Where they differ (Adam's and RMSprop's epsilon, Adagrad's epsilon and
initial accumulator, decoupled weight decay on SGD, lr inside SGD's momentum
under a schedule, Keras's clipnorm without PyTorch's 1e-6) the golden is the
Keras formula written out in plain torch maths, and that code is first checked
against torch.optim on a variant where the two formulas agree (epsilon 0, a
fixed rate, weight decay decoupled by hand, ...); "torch_optim_max_abs_diff"
records how far torch.optim with the case's own hyperparameters (its own
coupled weight_decay, its per-parameter step count) lands from the golden.
"""
import json
import math
import os

import torch

SEED = 1234
STEPS = 3
SHAPES = [(2, 3), (3,), (2,)]
SKIP = (1, 2)  # (step, parameter): no gradient there
RTOL, ATOL = 1e-5, 1e-6
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "goldens")

COMMON = dict(weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None)
DEFAULTS = {  # Keras 3's defaults, except Adadelta's rate: 1.0 as in Keras 2 (the lecture)
    "SGD": dict(learning_rate=0.01, momentum=0.0, nesterov=False),
    "Adadelta": dict(learning_rate=1.0, rho=0.95, epsilon=1e-7),
    "Adagrad": dict(learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7),
    "RMSprop": dict(learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False),
    "Adam": dict(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False),
    "AdamW": dict(learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                  amsgrad=False),
}
EXP_HALF = {"class_name": "ExponentialDecay",
            "config": dict(initial_learning_rate=0.1, decay_steps=1, decay_rate=0.5, staircase=False)}

# name, class, hyperparameters, torch agrees with Keras?, overrides that make them agree
CASES = [
    ("sgd", "SGD", dict(learning_rate=0.1), True, {}),
    ("sgd_momentum", "SGD", dict(learning_rate=0.1, momentum=0.9), True, {}),
    ("sgd_nesterov", "SGD", dict(learning_rate=0.1, momentum=0.9, nesterov=True), True, {}),
    ("sgd_weight_decay", "SGD", dict(learning_rate=0.1, momentum=0.9, weight_decay=0.05), False, {}),
    ("sgd_schedule", "SGD", dict(learning_rate=EXP_HALF, momentum=0.9), False, dict(learning_rate=0.1)),
    ("sgd_clipnorm", "SGD", dict(learning_rate=0.1, momentum=0.9, clipnorm=0.5), False, {}),
    ("adadelta", "Adadelta", dict(), True, {}),
    ("adadelta_rho", "Adadelta", dict(learning_rate=0.5, rho=0.8, epsilon=1e-3), True, {}),
    ("adagrad", "Adagrad", dict(learning_rate=0.1, epsilon=0.01), False, dict(epsilon=0.0)),
    ("rmsprop", "RMSprop", dict(learning_rate=0.01), False, dict(epsilon=0.0)),
    ("rmsprop_centered_momentum", "RMSprop", dict(learning_rate=0.01, momentum=0.9, centered=True, epsilon=0.01),
     False, dict(epsilon=0.0)),
    ("rmsprop_clipvalue", "RMSprop", dict(learning_rate=0.01, epsilon=0.01, clipvalue=0.5), False,
     dict(epsilon=0.0)),
    ("adam", "Adam", dict(learning_rate=0.01), False, dict(epsilon=0.0)),
    ("adam_amsgrad", "Adam", dict(learning_rate=0.01, amsgrad=True, epsilon=0.1), False, dict(epsilon=0.0)),
    ("adam_global_clipnorm", "Adam", dict(learning_rate=0.01, epsilon=0.1, global_clipnorm=1.0), False,
     dict(epsilon=0.0)),
    ("adamw", "AdamW", dict(learning_rate=0.01, weight_decay=0.1, epsilon=0.1), False, dict(epsilon=0.0)),
]


def rate(lr, it):
    """Keras evaluates a schedule at optimizer.iterations (0 for the first step)."""
    if not isinstance(lr, dict):
        return lr
    c = lr["config"]
    p = it / c["decay_steps"]
    return c["initial_learning_rate"] * c["decay_rate"] ** (math.floor(p) if c["staircase"] else p)


# ---- Keras 3's formulas in plain torch maths (keras/src/optimizers/*.py) ----

def slot(s, key, like, value=0.0):
    return s.setdefault(key, torch.full_like(like, value))


def sgd(p, g, s, lr, t, c):
    mu = c["momentum"]
    if mu == 0:
        return p - g * lr
    m = s["m"] = slot(s, "m", p) * mu - g * lr
    return p + (m * mu - g * lr) if c["nesterov"] else p + m


def adadelta(p, g, s, lr, t, c):
    rho, eps = c["rho"], c["epsilon"]
    a = s["a"] = slot(s, "a", p) * rho + g.square() * (1 - rho)
    d = -((slot(s, "d", p) + eps).sqrt() * g / (a + eps).sqrt())
    s["d"] = s["d"] * rho + d.square() * (1 - rho)
    return p + d * lr


def adagrad(p, g, s, lr, t, c):
    a = s["a"] = slot(s, "a", p, c["initial_accumulator_value"]) + g.square()
    return p - g * lr / (a + c["epsilon"]).sqrt()


def rmsprop(p, g, s, lr, t, c):
    rho = c["rho"]
    v = s["v"] = slot(s, "v", p) * rho + g.square() * (1 - rho)
    if c["centered"]:
        a = s["a"] = slot(s, "a", p) * rho + g * (1 - rho)
        den = v - a.square() + c["epsilon"]
    else:
        den = v + c["epsilon"]
    inc = g * lr / den.sqrt()
    if c["momentum"] > 0:
        m = s["m"] = slot(s, "m", p) * c["momentum"] + inc
        return p - m
    return p - inc


def adam(p, g, s, lr, t, c):
    b1, b2 = c["beta_1"], c["beta_2"]
    alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
    m = slot(s, "m", p)
    m = s["m"] = m + (g - m) * (1 - b1)
    v = slot(s, "v", p)
    v = s["v"] = v + (g.square() - v) * (1 - b2)
    if c["amsgrad"]:
        v = s["vhat"] = torch.maximum(slot(s, "vhat", p), v)
    return p - m * alpha / (v.sqrt() + c["epsilon"])


UPDATE = {"SGD": sgd, "Adadelta": adadelta, "Adagrad": adagrad, "RMSprop": rmsprop, "Adam": adam, "AdamW": adam}


def keras_clip(c, grads):
    if c["clipnorm"]:
        cn = c["clipnorm"]
        return [None if g is None else g * cn / torch.maximum(g.square().sum().sqrt(), torch.tensor(cn)) for g in grads]
    if c["global_clipnorm"]:
        cn = c["global_clipnorm"]
        norm = sum(g.square().sum() for g in grads if g is not None).sqrt()
        scale = cn * torch.minimum(1.0 / norm, torch.tensor(1.0 / cn)) + (norm - norm)
        return [None if g is None else g * scale for g in grads]
    if c["clipvalue"]:
        return [None if g is None else g.clamp(-c["clipvalue"], c["clipvalue"]) for g in grads]
    return grads


def keras_run(cls, c, params, grads):
    """base_optimizer.apply: clip, decoupled weight decay, update_step, iterations += 1."""
    p, slots, history = [t.clone() for t in params], [{} for _ in params], []
    for it, step_grads in enumerate(grads):
        gs, lr = keras_clip(c, step_grads), rate(c["learning_rate"], it)
        for i, g in enumerate(gs):
            if g is None:
                continue
            if c["weight_decay"]:
                p[i] = p[i] - p[i] * c["weight_decay"] * lr
            p[i] = UPDATE[cls](p[i], g, slots[i], lr, it + 1, c)
        history.append([t.clone() for t in p])
    return history


# ---- the same hyperparameters through torch.optim ----

def torch_optimizer(cls, c, ps, coupled_decay):
    lr = rate(c["learning_rate"], 0)
    if cls == "SGD":
        return torch.optim.SGD(ps, lr=lr, momentum=c["momentum"], nesterov=c["nesterov"],
                               weight_decay=c["weight_decay"] if coupled_decay and c["weight_decay"] else 0)
    if cls == "Adadelta":
        return torch.optim.Adadelta(ps, lr=lr, rho=c["rho"], eps=c["epsilon"])
    if cls == "Adagrad":
        return torch.optim.Adagrad(ps, lr=lr, initial_accumulator_value=c["initial_accumulator_value"],
                                   eps=c["epsilon"])
    if cls == "RMSprop":
        return torch.optim.RMSprop(ps, lr=lr, alpha=c["rho"], eps=c["epsilon"], momentum=c["momentum"],
                                   centered=c["centered"])
    betas = (c["beta_1"], c["beta_2"])
    if cls == "AdamW":
        return torch.optim.AdamW(ps, lr=lr, betas=betas, eps=c["epsilon"], weight_decay=c["weight_decay"],
                                 amsgrad=c["amsgrad"])
    return torch.optim.Adam(ps, lr=lr, betas=betas, eps=c["epsilon"], amsgrad=c["amsgrad"])


def torch_run(cls, c, params, grads, coupled_decay=False):
    """coupled_decay: torch's own weight_decay (an L2 term added to g) instead of Keras's decoupled one."""
    ps = [t.clone().requires_grad_(True) for t in params]
    opt, history = torch_optimizer(cls, c, ps, coupled_decay), []
    for it, step_grads in enumerate(grads):
        for p, g in zip(ps, step_grads):
            p.grad = None if g is None else g.clone()
        live = [p for p in ps if p.grad is not None]
        lr = rate(c["learning_rate"], it)
        opt.param_groups[0]["lr"] = lr
        with torch.no_grad():
            if c["clipnorm"]:
                for p in live:
                    torch.nn.utils.clip_grad_norm_(p, c["clipnorm"])
            if c["global_clipnorm"]:
                torch.nn.utils.clip_grad_norm_(live, c["global_clipnorm"])
            if c["clipvalue"]:
                torch.nn.utils.clip_grad_value_(live, c["clipvalue"])
            if c["weight_decay"] and cls != "AdamW" and not coupled_decay:  # decoupled, by hand
                for p in live:
                    p.mul_(1 - lr * c["weight_decay"])
        opt.step()
        history.append([p.detach().clone() for p in ps])
    return history


def max_abs_diff(a, b):
    return max((x - y).abs().max().item() for sa, sb in zip(a, b) for x, y in zip(sa, sb))


def check_close(what, a, b):
    for sa, sb in zip(a, b):
        for x, y in zip(sa, sb):
            if not torch.allclose(x, y, rtol=RTOL, atol=ATOL):
                raise SystemExit(f"{what}: the Keras formula and torch.optim disagree by {max_abs_diff(a, b):.3g}")


def main():
    torch.manual_seed(SEED)
    params = [torch.randn(s) for s in SHAPES]
    full_grads = [[torch.randn(s) for s in SHAPES] for _ in range(STEPS)]
    grads = [list(g) for g in full_grads]
    grads[SKIP[0]][SKIP[1]] = None
    os.makedirs(OUT, exist_ok=True)
    for name, cls, hyper, agrees, overrides in CASES:
        c = {**COMMON, **DEFAULTS[cls], **hyper}
        keras = keras_run(cls, c, params, grads)
        torch_out = torch_run(cls, c, params, grads, coupled_decay=True)
        record = {"seed": SEED, "config": {"class_name": cls, "config": c}}
        if agrees:
            check_close(name, keras, torch_out)
            after, record["reference"] = torch_out, f"torch.optim.{cls} (its formula is Keras's here)"
        else:
            variant = {**c, **overrides}
            check_close(name + " (agreeing variant)", keras_run(cls, variant, params, full_grads),
                        torch_run(cls, variant, params, full_grads))
            after = keras
            record["reference"] = (f"Keras 3's formula in torch maths, checked against torch.optim.{cls} "
                                   f"with {overrides or 'the same hyperparameters'} (weight decay decoupled by "
                                   "hand, no skipped gradient: torch counts Adam's steps per parameter)")
            record["torch_optim_max_abs_diff"] = max_abs_diff(keras, torch_out)
        record["params"] = [{"shape": list(t.shape), "values": t.flatten().tolist()} for t in params]
        record["grads"] = [[None if g is None else g.flatten().tolist() for g in step] for step in grads]
        record["after"] = [[t.flatten().tolist() for t in step] for step in after]
        path = os.path.join(OUT, f"optim_{name}.json")
        with open(path, "w") as f:  # one key a line, each value on its line
            f.write("{\n" + ",\n".join(f" {json.dumps(k)}: {json.dumps(v)}" for k, v in record.items()) + "\n}\n")
        note = "" if agrees else f"  (torch.optim differs by {record['torch_optim_max_abs_diff']:.3g})"
        print(f"wrote {os.path.relpath(path)}{note}")


if __name__ == "__main__":
    main()
