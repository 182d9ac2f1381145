#!/usr/bin/env python3
"""Golden files from PyTorch: three steps of every optimiser (tests/optim) and
forward+backward of every layer (tests/nn).

Run by hand with Debian's PyTorch (python3-torch 1.13), from the repository root:
    /usr/bin/python3 tools/make_goldens.py [optim|layers]   (both by default)

Optimisers. It writes tests/goldens/optim_<case>.json: the hyperparameters (our config
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

Layers. It writes tests/goldens/layer_<case>.json: the layer's Keras config,
the input, parameters and buffers as Cortex stores them (NHWC images, HWIO conv
kernels, (in, out) dense kernels; float32 values, drawn from the recorded
seed), the output, a random upstream gradient and the gradients of the input
and of every parameter, in Cortex's layouts. The reference runs in float64 with
torch.nn.functional on permuted copies (NCHW, OIHW), so autograd hands the
gradients back in Cortex's layouts. Where torch differs from Keras (Keras's
asymmetric "same" padding, the biased batch variance in BatchNormalization's
moving variance) the difference is written out in torch maths and said in the
file's "reference".
"""
import json
import math
import os
import struct
import sys

import torch
import torch.nn.functional as F

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


# ---- layers: forward and backward against torch.nn.functional in float64 ----

LAYER_SEED = 2024
KINK_MARGIN = 1e-4  # |pre-activation| at a ReLU kink, gap between a max-pool window's two largest
ACTIVATIONS = ["linear", "relu", "sigmoid", "tanh", "softmax", "log_softmax", "elu", "selu", "gelu", "softplus",
               "swish", "silu", "leaky_relu"]


def act(name, z):
    """Keras's activations (keras.activations defaults: gelu exact, leaky_relu slope 0.2)."""
    if name in ("relu", "leaky_relu", "elu", "selu"):  # a kink at 0: f32 must fall on the same side
        kink_check(f"activation {name}", z.abs().min())
    return {
        "linear": lambda t: t, "relu": F.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
        "softmax": lambda t: F.softmax(t, -1), "log_softmax": lambda t: F.log_softmax(t, -1),
        "elu": F.elu, "selu": F.selu, "gelu": F.gelu, "softplus": F.softplus, "swish": F.silu, "silu": F.silu,
        "leaky_relu": lambda t: F.leaky_relu(t, 0.2),
    }[name](z)


def kink_check(what, margin):
    if margin < KINK_MARGIN:
        raise SystemExit(f"{what}: a value {margin:.3g} from a kink; f32 may take the other branch (change the case)")


def nchw(x):  # (N, H, W, C) -> (N, C, H, W)
    return x.permute(0, 3, 1, 2)


def nhwc(x):  # (N, C, H, W) -> (N, H, W, C)
    return x.permute(0, 2, 3, 1)


def same_pads(size, k, s):
    """Keras's "same": ceil(size / s) outputs, the odd pad after (bottom, right)."""
    total = max((-(-size // s) - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def pad_same(x, k, s, value=0.0):
    """x: (N, C, H, W), padded as Keras's "same" for kernel k and strides s (torch pads symmetrically)."""
    top, bottom = same_pads(x.shape[2], k[0], s[0])
    left, right = same_pads(x.shape[3], k[1], s[1])
    return F.pad(x, (left, right, top, bottom), value=value)


def pool_strides(c):
    return c.get("strides") or c.get("pool_size", [2, 2])


def dense_ref(c, x, p, training):
    return act(c.get("activation", "linear"), F.linear(x, p["kernel"].t(), p.get("bias")))


def conv_ref(c, x, p, training):
    k, s, d = c.get("kernel_size", [3, 3]), c.get("strides", [1, 1]), c.get("dilation_rate", [1, 1])
    xn = nchw(x)
    if c.get("padding", "valid") == "same":
        xn = pad_same(xn, [(k[0] - 1) * d[0] + 1, (k[1] - 1) * d[1] + 1], s)
    y = F.conv2d(xn, p["kernel"].permute(3, 2, 0, 1), p.get("bias"), stride=s, dilation=d, groups=c.get("groups", 1))
    return act(c.get("activation", "linear"), nhwc(y))


def max_pool_ref(c, x, p, training):
    k, s = c.get("pool_size", [2, 2]), pool_strides(c)
    xn = nchw(x)
    if c.get("padding", "valid") == "same":
        xn = pad_same(xn, k, s, value=-math.inf)
    n, ch = xn.shape[:2]
    windows = F.unfold(xn.reshape(n * ch, 1, *xn.shape[2:]).detach(), k, stride=s)  # (N*C, k*k, L)
    top2 = windows.topk(2, dim=1).values
    tied_zeros = (top2[:, 0] == 0) & (top2[:, 1] == 0)  # after a ReLU: its gradient is 0 whichever wins
    kink_check("max pooling", (top2[:, 0] - top2[:, 1])[~tied_zeros].min().item())
    return nhwc(F.max_pool2d(xn, k, s))


def avg_pool_ref(c, x, p, training):
    """Keras's "same" average pooling divides by the window's count of real (unpadded) elements."""
    k, s = c.get("pool_size", [2, 2]), pool_strides(c)
    xn = nchw(x)
    if c.get("padding", "valid") == "valid":
        return nhwc(F.avg_pool2d(xn, k, s))
    pads = same_pads(xn.shape[2], k[0], s[0]) + same_pads(xn.shape[3], k[1], s[1])
    if pads[0] == pads[1] and pads[2] == pads[3]:  # torch's own pooling can say it
        return nhwc(F.avg_pool2d(xn, k, s, padding=(pads[0], pads[2]), count_include_pad=False))
    return nhwc(sum_over_count(xn, k, s))


def sum_over_count(xn, k, s):
    """Average pooling over Keras's asymmetric "same" pads: window sums / window counts of real elements."""
    area = k[0] * k[1]
    sums = F.avg_pool2d(pad_same(xn, k, s), k, s) * area
    counts = F.avg_pool2d(pad_same(torch.ones_like(xn[:1, :1]), k, s), k, s) * area
    return sums / counts


def check_sum_over_count():
    """sum_over_count is torch's count_include_pad=False pooling wherever torch can pad (symmetric pads)."""
    x = torch.randn(2, 3, 5, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(LAYER_SEED))
    ours, theirs = sum_over_count(x, [3, 3], [1, 2]), F.avg_pool2d(x, 3, (1, 2), 1, count_include_pad=False)
    if not torch.allclose(ours, theirs, rtol=1e-12, atol=1e-12):
        raise SystemExit("sum_over_count disagrees with torch's count_include_pad=False pooling")


def global_avg_ref(c, x, p, training):
    return F.adaptive_avg_pool2d(nchw(x), 1).flatten(1)


def dropout_ref(c, x, p, training):
    if training:
        raise SystemExit("Dropout in training is random: no golden (tests/nn tests its mask instead)")
    return x


def flatten_ref(c, x, p, training):  # Keras flattens NHWC: (h, w, c) order, as the tensor lies
    return x.reshape(x.shape[0], -1)


def reshape_ref(c, x, p, training):
    return x.reshape(x.shape[0], *c["target_shape"])


def activation_ref(default):
    return lambda c, x, p, training: act(c.get("activation", default), x)


def batch_norm_ref(c, x, p, training):
    """F.batch_norm normalises as Keras does (biased batch variance); in training the moving averages follow
    Keras's update, moving * momentum + batch * (1 - momentum), with the biased variance (torch's running_var
    takes the unbiased one: its value is kept in p["torch_running_variance"] to be recorded)."""
    momentum, eps = c.get("momentum", 0.99), c.get("epsilon", 1e-3)
    xt = nchw(x) if x.dim() == 4 else x  # channels on axis 1 for torch
    rm, rv = p["moving_mean"].clone(), p["moving_variance"].clone()
    y = F.batch_norm(xt, rm, rv, p.get("gamma"), p.get("beta"), training=training, momentum=1 - momentum, eps=eps)
    if training:
        axes = [0] + list(range(2, xt.dim()))
        with torch.no_grad():
            batch_mean, batch_var = xt.mean(axes), xt.var(axes, unbiased=False)
            p["moving_mean_after"] = p["moving_mean"] * momentum + batch_mean * (1 - momentum)
            p["moving_variance_after"] = p["moving_variance"] * momentum + batch_var * (1 - momentum)
        if not torch.allclose(rm, p["moving_mean_after"], rtol=1e-12, atol=1e-12):
            raise SystemExit("BatchNormalization: torch's running_mean is not Keras's moving_mean")
        p["torch_running_variance"] = rv
    return nhwc(y) if x.dim() == 4 else y


# class name -> (reference forward, parameter and buffer shapes for an input shape)
def kernel_shapes(c, s):
    k, cin = c.get("kernel_size", [3, 3]), s[-1] // c.get("groups", 1)
    return {"kernel": [k[0], k[1], cin, c["filters"]], **({"bias": [c["filters"]]} if c.get("use_bias", True) else {})}


LAYER_REFS = {
    "Dense": (dense_ref, lambda c, s: {"kernel": [s[-1], c["units"]],
                                       **({"bias": [c["units"]]} if c.get("use_bias", True) else {})}),
    "Conv2D": (conv_ref, kernel_shapes),
    "MaxPooling2D": (max_pool_ref, None),
    "AveragePooling2D": (avg_pool_ref, None),
    "GlobalAveragePooling2D": (global_avg_ref, None),
    "Dropout": (dropout_ref, None),
    "Flatten": (flatten_ref, None),
    "Reshape": (reshape_ref, None),
    "Activation": (activation_ref("linear"), None),
    "ReLU": (activation_ref("relu"), None),
    "Softmax": (activation_ref("softmax"), None),
    "BatchNormalization": (batch_norm_ref, lambda c, s: {
        **({"gamma": [s[-1]]} if c.get("scale", True) else {}), **({"beta": [s[-1]]} if c.get("center", True) else {}),
        "moving_mean": [s[-1]], "moving_variance": [s[-1]]}),
}
BUFFERS = ("moving_mean", "moving_variance")


def draw(name, shape, gen):
    """Values of the size a trained layer sees, rounded to float32 (what Cortex is given)."""
    if name == "kernel":
        t = torch.randn(shape, generator=gen, dtype=torch.float64) / math.sqrt(math.prod(shape[:-1]))
    elif name in ("gamma", "moving_variance"):
        t = torch.rand(shape, generator=gen, dtype=torch.float64) + 0.5
    elif name in ("bias", "beta", "moving_mean"):
        t = torch.randn(shape, generator=gen, dtype=torch.float64) * 0.5
    else:
        t = torch.randn(shape, generator=gen, dtype=torch.float64)
    return t.float().double()


def specs_of(spec):
    return spec["config"]["layers"] if spec["class_name"] == "Sequential" else [spec]


def layer_case(spec, input_shape, training, gen):
    """Draws the input, parameters and buffers, runs the reference forward and backward."""
    x = draw("input", input_shape, gen).requires_grad_(True)
    params, buffers, state, h = {}, {}, [], x
    for i, layer in enumerate(specs_of(spec)):
        ref, shapes = LAYER_REFS[layer["class_name"]]
        prefix = f"{i}." if spec["class_name"] == "Sequential" else ""
        p = {}
        for name, shape in (shapes(layer["config"], list(h.shape)) if shapes else {}).items():
            p[name] = draw(name, shape, gen)
            if name in BUFFERS:
                buffers[prefix + name] = p[name]
            else:
                params[prefix + name] = p[name].requires_grad_(True)
        h = ref(layer["config"], h, p, training)
        state.append((prefix, p))
    upstream = draw("upstream", list(h.shape), gen)
    h.backward(upstream)
    after = {prefix + b: p[b + "_after"] for prefix, p in state for b in BUFFERS if b + "_after" in p}
    torch_var = {prefix + "moving_variance": p["torch_running_variance"] for prefix, p in state
                 if "torch_running_variance" in p}
    return x, params, buffers, h.detach(), upstream, after, torch_var


def f32(v):
    """The shortest decimal that reads back (through a double, as nlohmann does) as the float32 v."""
    for digits in range(6, 10):
        s = "%.*g" % (digits, v)
        if struct.unpack("f", struct.pack("f", float(s)))[0] == v:
            return float(s)
    raise AssertionError(v)


def as_json(t, exact):
    values = t.detach().flatten().tolist()
    return {"shape": list(t.shape), "values": [f32(v) if exact else float("%.10g" % v) for v in values]}


def conv(filters, kernel, **o):
    return {"class_name": "Conv2D", "config": {"filters": filters, "kernel_size": kernel, **o}}


def layer(class_name, **config):
    return {"class_name": class_name, "config": config}


# The lecture's CNN, layer for layer, narrowed (4 and 8 filters, 16 units, 10x10 images) so that its file stays small.
LECTURE_CNN = layer("Sequential", layers=[
    conv(4, [3, 3], activation="relu"),
    conv(8, [3, 3], activation="relu"),
    layer("MaxPooling2D", pool_size=[2, 2]),
    layer("Dropout", rate=0.25),
    layer("Flatten"),
    layer("Dense", units=16, activation="relu"),
    layer("Dropout", rate=0.5),
    layer("Dense", units=10, activation="softmax"),
])

# name, layer spec, input shape (NHWC for images), training
LAYER_CASES = [
    ("dense_relu", layer("Dense", units=4, activation="relu"), [3, 5], False),
    ("dense_rank3_tanh_no_bias", layer("Dense", units=3, activation="tanh", use_bias=False), [2, 3, 4], False),
    ("conv2d_valid", conv(4, [3, 3]), [2, 5, 6, 3], False),
    ("conv2d_same_stride2", conv(4, [3, 3], strides=[2, 2], padding="same"), [2, 6, 7, 3], False),
    ("conv2d_same_no_bias_relu", conv(3, [2, 3], padding="same", use_bias=False, activation="relu"), [2, 5, 5, 2],
     False),
    ("conv2d_dilated_groups", conv(4, [3, 3], dilation_rate=[2, 2], groups=2), [1, 7, 7, 4], False),
    ("max_pooling2d", layer("MaxPooling2D"), [2, 5, 5, 3], False),
    ("max_pooling2d_same_stride2", layer("MaxPooling2D", pool_size=[3, 3], strides=[2, 2], padding="same"),
     [2, 5, 6, 2], False),
    ("average_pooling2d", layer("AveragePooling2D", pool_size=[2, 3], strides=[1, 2]), [2, 4, 5, 3], False),
    ("average_pooling2d_same", layer("AveragePooling2D", pool_size=[3, 3], strides=[1, 1], padding="same"),
     [2, 4, 4, 2], False),
    ("average_pooling2d_same_stride2", layer("AveragePooling2D", pool_size=[2, 2], padding="same"), [2, 5, 5, 2],
     False),
    ("global_average_pooling2d", layer("GlobalAveragePooling2D"), [2, 3, 4, 3], False),
    ("flatten", layer("Flatten"), [2, 3, 4, 2], False),
    ("reshape", layer("Reshape", target_shape=[-1, 6]), [2, 3, 4, 2], False),
    ("batch_normalization_train", layer("BatchNormalization"), [4, 3, 3, 2], True),
    ("batch_normalization_eval", layer("BatchNormalization"), [4, 3, 3, 2], False),
    ("batch_normalization_2d_train_no_center", layer("BatchNormalization", momentum=0.9, epsilon=1e-5, center=False),
     [6, 3], True),
    *[(f"activation_{a}", layer("Activation", activation=a), [3, 5], False) for a in ACTIVATIONS],
    ("relu", layer("ReLU"), [3, 5], False),
    ("softmax", layer("Softmax"), [3, 5], False),
    ("lecture_cnn", LECTURE_CNN, [2, 10, 10, 1], False),
]


def layers_main():
    check_sum_over_count()
    os.makedirs(OUT, exist_ok=True)
    for name, spec, input_shape, training in LAYER_CASES:
        gen = torch.Generator().manual_seed(LAYER_SEED)
        x, params, buffers, y, upstream, after, torch_var = layer_case(spec, input_shape, training, gen)
        record = {"seed": LAYER_SEED, "layer": spec, "training": training,
                  "reference": "torch.nn.functional in float64 on NCHW/OIHW copies; Keras's asymmetric 'same' pads "
                               "through F.pad (-inf for max pooling, real-element counts for average pooling); "
                               "BatchNormalization's moving statistics by Keras's formula (biased batch variance)",
                  "input": as_json(x, True),
                  "params": {k: as_json(v, True) for k, v in params.items()},
                  "buffers": {k: as_json(v, True) for k, v in buffers.items()},
                  "output": as_json(y, False),
                  "upstream": as_json(upstream, True),
                  "grad_input": as_json(x.grad, False),
                  "grads": {k: as_json(v.grad, False) for k, v in params.items()}}
        if after:
            record["buffers_after"] = {k: as_json(v, False) for k, v in after.items()}
            record["torch_running_variance_max_abs_diff"] = max(
                (torch_var[k] - after[k]).abs().max().item() for k in torch_var)
        path = os.path.join(OUT, f"layer_{name}.json")
        with open(path, "w") as f:  # one key a line, each value on its line
            f.write("{\n" + ",\n".join(f" {json.dumps(k)}: {json.dumps(v)}" for k, v in record.items()) + "\n}\n")
        print(f"wrote {os.path.relpath(path)} ({os.path.getsize(path)} bytes)")

if __name__ == "__main__":
    what = sys.argv[1:] or ["optim", "layers"]
    if "optim" in what:
        main()
    if "layers" in what:
        layers_main()
