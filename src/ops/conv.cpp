// conv2d and conv_transpose2d: geometry checks, then the three conv kernels
// (forward, backward-data, backward-weight) in the roles each op needs.
#include "cortex/ops/conv.h"

#include "cortex/autograd/grad_mode.h"
#include "cortex/ops/activation.h"
#include "cortex/ops/autocast.h"
#include "cortex/ops/elementwise.h"
#include "cortex/ops/reduce.h"
#include "op_util.h"

namespace cortex {
using autograd::record;
using autograd::save;
using backend::Conv2dParams;

namespace {

std::int64_t dilated(std::int64_t k, std::int64_t d) { return (k - 1) * d + 1; }

// transposed: conv_transpose2d, the one op that takes output_padding.
Conv2dParams params(const Conv2dOptions& o, const char* op, bool transposed) {
  for (auto s : o.strides)
    if (s < 1) fail<ValueError>(op, " expects strides >= 1, got ", s);
  for (auto d : o.dilation)
    if (d < 1) fail<ValueError>(op, " expects dilation >= 1, got ", d);
  for (auto p : o.pads)
    if (p < 0) fail<ValueError>(op, " expects pads >= 0, got ", p);
  if (o.groups < 1) fail<ValueError>(op, " expects groups >= 1, got ", o.groups);
  if (o.padding != "valid" && o.padding != "same" && o.padding != "explicit")
    fail<ValueError>(op, " expects padding \"valid\", \"same\" or \"explicit\", got \"", o.padding, "\"");
  if (o.padding != "explicit" && o.pads != decltype(o.pads){})
    fail<ValueError>(op, " takes pads only with padding \"explicit\", got padding \"", o.padding, "\" and pads ",
                     o.pads[0], ",", o.pads[1], ",", o.pads[2], ",", o.pads[3]);
  if (!transposed && o.output_padding != decltype(o.output_padding){})
    fail<ValueError>(op, " takes no output_padding (conv_transpose2d does), got ", o.output_padding[0], "x",
                     o.output_padding[1]);
  Conv2dParams p;
  p.stride_h = o.strides[0];
  p.stride_w = o.strides[1];
  p.dilation_h = o.dilation[0];
  p.dilation_w = o.dilation[1];
  p.groups = o.groups;
  if (o.padding == "explicit") {
    p.pad_top = o.pads[0];
    p.pad_bottom = o.pads[1];
    p.pad_left = o.pads[2];
    p.pad_right = o.pads[3];
  }
  return p;
}

void check_operands(const Tensor& x, const Tensor& w, const Tensor& bias, const char* op) {
  detail::check_defined(x, op, "the input");
  detail::check_defined(w, op, "the kernel");
  detail::check_floating_or_bf16(x, op);
  detail::check_same_dtype(x, w, op);
  detail::check_same_device(x, w, op);
  detail::check_rank(x, 4, op, "NHWC input");
  detail::check_rank(w, 4, op, "HWIO kernel");
  if (w.shape()[0] < 1 || w.shape()[1] < 1 || w.shape()[2] < 1 || w.shape()[3] < 1 || x.shape()[3] < 1)
    fail<ShapeError>(op, " expects non-empty kernel and channel axes, got input ", shape_str(x.shape()), " and kernel ",
                     shape_str(w.shape()));
  if (bias.defined()) {
    detail::check_same_dtype(x, bias, op);
    detail::check_same_device(x, bias, op);
  }
}

void check_bias(const Tensor& bias, std::int64_t channels, const char* op) {
  if (bias.defined() && (bias.dim() != 1 || bias.shape()[0] != channels))
    fail<ShapeError>(op, " expects a bias of shape [", channels, "], got ", shape_str(bias.shape()));
}

void check_groups(std::int64_t in_ch, std::int64_t kernel_in, std::int64_t out_ch, std::int64_t groups,
                  const char* op, const Tensor& x, const Tensor& w) {
  if (in_ch % groups != 0 || out_ch % groups != 0 || kernel_in * groups != in_ch)
    fail<ShapeError>(op, " expects the kernel's input channels (", kernel_in, ") x groups (", groups,
                     ") to equal the input's channels (", in_ch, ") and groups to divide the output channels (",
                     out_ch, "); input ", shape_str(x.shape()), ", kernel ", shape_str(w.shape()));
}

// Under autocast a convolution runs in bf16 where the tensor cores take it:
// kernel channel axes (HWIO's I and O) in multiples of 8. A first layer on 1
// or 3 input channels stays f32 (TF32): cuDNN has only generic kernels for it
// in bf16, and on an H100 the lecture CNN's first-layer weight gradient took
// 514 us in bf16 against 218 us for both layers' in TF32; VGG's, 964 us.
bool tensor_core_channels(const Tensor& w) {
  return w.defined() && w.dim() == 4 && w.shape()[2] % 8 == 0 && w.shape()[3] % 8 == 0;
}

// Runs op (conv2d or conv_transpose2d) under autocast: on bf16 copies, or in
// f32 with autocast off for the call where the channels do not fit.
template <typename Op>
Tensor autocast_conv(Op op, const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dOptions& o) {
  if (tensor_core_channels(w))
    return op(detail::to_bf16_if_autocast(x), detail::to_bf16_if_autocast(w), detail::to_bf16_if_autocast(bias), o);
  Tensor xf = detail::to_f32_if_autocast(x), wf = detail::to_f32_if_autocast(w), bf = detail::to_f32_if_autocast(bias);
  AutocastScope off(false);
  return op(xf, wf, bf, o);
}

// db = sum of g over (N, OH, OW). g: (N, OH, OW, O)
Tensor bias_grad(const Tensor& g) { return sum(g.reshape({-1, g.shape()[3]}), {0}); }

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dOptions& o) {
  const char* op = "conv2d";
  // Under autocast the relu runs in the conv's dtype.
  if (detail::autocast_applies({&x, &w, &bias})) return autocast_conv(conv2d, x, w, bias, o);
  check_operands(x, w, bias, op);
  Conv2dParams p = params(o, op, false);
  std::int64_t n = x.shape()[0], h = x.shape()[1], wd = x.shape()[2], c = x.shape()[3];
  std::int64_t kh = w.shape()[0], kw = w.shape()[1], oc = w.shape()[3];
  check_groups(c, w.shape()[2], oc, p.groups, op, x, w);
  check_bias(bias, oc, op);
  std::int64_t kh_eff = dilated(kh, p.dilation_h), kw_eff = dilated(kw, p.dilation_w);
  if (o.padding == "same") {
    std::tie(p.pad_top, p.pad_bottom) = detail::same_pads(h, kh_eff, p.stride_h);
    std::tie(p.pad_left, p.pad_right) = detail::same_pads(wd, kw_eff, p.stride_w);
  }
  std::int64_t hp = h + p.pad_top + p.pad_bottom, wp = wd + p.pad_left + p.pad_right;
  if (hp < kh_eff || wp < kw_eff)
    fail<ShapeError>(op, " expects the padded input (", hp, "x", wp, ") to be at least the dilated kernel (",
                     kh_eff, "x", kw_eff, "); input ", shape_str(x.shape()), ", kernel ", shape_str(w.shape()));
  Shape out_shape{n, (hp - kh_eff) / p.stride_h + 1, (wp - kw_eff) / p.stride_w + 1, oc};

  Tensor xc = detail::contiguous_raw(x), wc = detail::contiguous_raw(w);
  Tensor bc = bias.defined() ? detail::contiguous_raw(bias) : Tensor();
  Tensor y = detail::alloc(out_shape, x.dtype(), x.device());
  detail::kernel(&Kernels::conv2d, x.device(), op)(xc, wc, bias.defined() ? &bc : nullptr, y, p);
  // The relu in place on the output, by every backend's unary kernel (not as
  // oneDNN's relu post-op, which turns NaN into 0: a NaN must reach the loss).
  if (o.relu) detail::kernel(&Kernels::unary, y.device(), op)(backend::UnaryOp::relu, y, y, {});

  bool nx = x.requires_grad(), nw = w.requires_grad(), nb = bias.defined() && bias.requires_grad();
  Tensor xs = save(xc), ws = save(wc), ys = o.relu ? save(y) : Tensor();
  return record(o.relu ? "conv2d_relu" : op, y, {x, w, bias}, [=](const Tensor& g_in) -> std::vector<Tensor> {
    Tensor g = detail::contiguous_raw(g_in);
    if (ys.defined()) {  // through the relu: y > 0 exactly where its input was
      Tensor masked = detail::alloc(g.shape(), g.dtype(), g.device());
      detail::kernel(&Kernels::unary_backward, g.device(), "conv2d backward")(backend::UnaryOp::relu, ys, ys, g,
                                                                              masked, {});
      g = masked;
    }
    Tensor dx, dw, db;
    if (nx) {
      dx = detail::alloc(xs.shape(), xs.dtype(), xs.device());
      detail::kernel(&Kernels::conv2d_backward_data, g.device(), "conv2d backward")(g, ws, dx, p);
    }
    if (nb) db = detail::alloc({ws.shape()[3]}, ws.dtype(), ws.device());
    if (nw || nb) {
      // The bias gradient comes from the same pass (dw is then needed as its buffer).
      dw = detail::alloc(ws.shape(), ws.dtype(), ws.device());
      detail::kernel(&Kernels::conv2d_backward_weight, g.device(), "conv2d backward")(xs, g, dw,
                                                                                   nb ? &db : nullptr, p);
      if (!nw) dw = Tensor();
    }
    return {dx, dw, db};
  });
}

Tensor conv_transpose2d(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dOptions& o) {
  const char* op = "conv_transpose2d";
  if (o.relu) fail<ValueError>(op, " does not fuse a relu (Conv2dOptions::relu is for conv2d); apply relu() to its output");
  if (detail::autocast_applies({&x, &w, &bias})) return autocast_conv(conv_transpose2d, x, w, bias, o);
  check_operands(x, w, bias, op);
  Conv2dParams p = params(o, op, true);
  std::int64_t n = x.shape()[0], h = x.shape()[1], wd = x.shape()[2], c = x.shape()[3];
  std::int64_t kh = w.shape()[0], kw = w.shape()[1], oc = w.shape()[2] * p.groups;
  // Seen from the forward conv it inverts, w maps oc channels to c = w.shape()[3].
  check_groups(oc, w.shape()[2], c, p.groups, op, x, w);
  if (w.shape()[3] != c)
    fail<ShapeError>(op, " expects a kernel (KH, KW, O / groups, C) with C = ", c, " input channels, got ",
                     shape_str(w.shape()));
  check_bias(bias, oc, op);
  std::int64_t kh_eff = dilated(kh, p.dilation_h), kw_eff = dilated(kw, p.dilation_w);
  std::int64_t oph = o.output_padding[0], opw = o.output_padding[1];
  if (o.padding == "same") {  // out = in * stride
    std::int64_t th = kh_eff - p.stride_h, tw = kw_eff - p.stride_w;
    p.pad_top = std::max<std::int64_t>(th, 0) / 2;
    p.pad_bottom = std::max<std::int64_t>(th, 0) - p.pad_top;
    p.pad_left = std::max<std::int64_t>(tw, 0) / 2;
    p.pad_right = std::max<std::int64_t>(tw, 0) - p.pad_left;
    oph += std::max<std::int64_t>(-th, 0);
    opw += std::max<std::int64_t>(-tw, 0);
  }
  // Keras's rule: below the stride, so that the forward conv maps the output back to the input.
  if (oph < 0 || opw < 0 || oph >= p.stride_h || opw >= p.stride_w)
    fail<ValueError>(op, " expects output_padding in [0, stride) (stride ", p.stride_h, "x", p.stride_w, "), got ",
                     oph, "x", opw, o.padding == "same" ? " including what \"same\" adds" : "");
  std::int64_t oh = (h - 1) * p.stride_h + kh_eff - p.pad_top - p.pad_bottom + oph;
  std::int64_t ow = (wd - 1) * p.stride_w + kw_eff - p.pad_left - p.pad_right + opw;
  if (oh < 1 || ow < 1)
    fail<ShapeError>(op, " gives an empty output (", oh, "x", ow, ") for input ", shape_str(x.shape()));
  // The forward conv that this op inverts maps (oh, ow) back to (h, w): output
  // padding < stride vanishes in its floor((oh + pads - k) / stride) + 1.

  Tensor xc = detail::contiguous_raw(x), wc = detail::contiguous_raw(w);
  Tensor y = detail::alloc({n, oh, ow, oc}, x.dtype(), x.device());
  detail::kernel(&Kernels::conv2d_backward_data, x.device(), op)(xc, wc, y, p);
  if (bias.defined()) {
    NoGradGuard raw;
    y = y + bias;  // broadcast over (N, OH, OW)
  }

  bool nx = x.requires_grad(), nw = w.requires_grad(), nb = bias.defined() && bias.requires_grad();
  Tensor xs = save(xc), ws = save(wc);
  return record(op, y, {x, w, bias}, [=](const Tensor& g_in) -> std::vector<Tensor> {
    Tensor g = detail::contiguous_raw(g_in);
    Tensor dx, dw, db;
    if (nx) {
      dx = detail::alloc(xs.shape(), xs.dtype(), xs.device());
      detail::kernel(&Kernels::conv2d, g.device(), "conv_transpose2d backward")(g, ws, nullptr, dx, p);
    }
    if (nw) {
      dw = detail::alloc(ws.shape(), ws.dtype(), ws.device());
      detail::kernel(&Kernels::conv2d_backward_weight, g.device(), "conv_transpose2d backward")(g, xs, dw,
                                                                                             nullptr, p);
    }
    if (nb) db = bias_grad(g);
    return {dx, dw, db};
  });
}

}  // namespace cortex
