// cpu 2-D convolution on oneDNN (f32): forward, backward-data and
// backward-weights, NHWC activations and HWIO weights; other dtypes go to ref.
//
// oneDNN sees the user's layouts through memory descriptors (activations as
// nhwc, weights as explicit HWIO strides) and picks its own weight layout
// (format_tag::any); the weights are reordered every call since they change
// every step. Measured on the lecture CNN's second layer (2 AVX2 cores): the
// forward is fastest on nhwc directly, the backward passes on blocked layouts
// (nChw8c, reorders included) when channel counts fill whole 8-lane blocks,
// except the weight gradient of layers with wide receptive fields, which runs
// as im2col and oneDNN's matmul (gemm_backward_weights below).
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <unordered_map>

#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/dnnl_context.h"

namespace cortex::backend::cpu {
namespace {

using dnnl::algorithm;
using dnnl::memory;
using dnnl::prop_kind;

// True when x: (N, H, W, C), w: (KH, KW, C / groups, O) and y: (N, OH, OW, O)
// fit together under p, all f32 and contiguous, without empty axes. Anything
// else goes to the reference kernel, which names what is wrong.
bool fast_geometry(const Tensor& x, const Tensor& w, const Tensor& y, const Conv2dParams& p) {
  for (const Tensor* t : {&x, &w, &y})
    if (t->dim() != 4 || t->dtype() != DType::f32 || !t->is_contiguous() || t->numel() == 0)
      return false;
  if (p.stride_h < 1 || p.stride_w < 1 || p.dilation_h < 1 || p.dilation_w < 1 || p.groups < 1 ||
      p.pad_top < 0 || p.pad_bottom < 0 || p.pad_left < 0 || p.pad_right < 0)
    return false;
  const Shape &xs = x.shape(), &ws = w.shape(), &ys = y.shape();
  if (xs[3] % p.groups != 0 || ws[3] % p.groups != 0) return false;
  const std::int64_t span_h = p.dilation_h * (ws[0] - 1) + 1,
                     span_w = p.dilation_w * (ws[1] - 1) + 1;
  const std::int64_t in_h = xs[1] + p.pad_top + p.pad_bottom,
                     in_w = xs[2] + p.pad_left + p.pad_right;
  if (in_h < span_h || in_w < span_w) return false;
  return ws[2] == xs[3] / p.groups && ys == Shape{xs[0], (in_h - span_h) / p.stride_h + 1,
                                                  (in_w - span_w) / p.stride_w + 1, ws[3]};
}

// Blocked activations pay off only when channels fill whole blocks (see the top).
bool blocked_backward(const Shape& x, const Shape& w, const Conv2dParams& p) {
  return p.groups == 1 && x[3] % 8 == 0 && w[3] % 8 == 0;
}

// w: (KH, KW, C / G, O) as oneDNN's {O, I, KH, KW} or {G, O / G, I, KH, KW}.
memory::desc weights_desc(const Shape& w, std::int64_t groups, bool any) {
  const std::int64_t KH = w[0], KW = w[1], I = w[2], O = w[3], Og = O / groups;
  const auto f32 = memory::data_type::f32;
  if (groups == 1) {
    const memory::dims dims{O, I, KH, KW};
    return any ? memory::desc(dims, f32, memory::format_tag::any)
               : memory::desc(dims, f32, memory::dims{1, O, KW * I * O, I * O});
  }
  const memory::dims dims{groups, Og, I, KH, KW};
  return any ? memory::desc(dims, f32, memory::format_tag::any)
             : memory::desc(dims, f32, memory::dims{Og, 1, O, KW * I * O, I * O});
}

// The geometry in oneDNN's terms (its dilation counts the gaps: ours - 1).
struct ConvAttrs {
  memory::dims strides, dilates, pad_l, pad_r;
  explicit ConvAttrs(const Conv2dParams& p)
      : strides{p.stride_h, p.stride_w},
        dilates{p.dilation_h - 1, p.dilation_w - 1},
        pad_l{p.pad_top, p.pad_left},
        pad_r{p.pad_bottom, p.pad_right} {}
};

std::string conv_key(const char* op, const Shape& x, const Shape& w, const Conv2dParams& p,
                     bool flag) {
  return key(op, x, w, p.stride_h, p.stride_w, p.pad_top, p.pad_bottom, p.pad_left, p.pad_right,
             p.dilation_h, p.dilation_w, p.groups, flag);
}

// The forward descriptor with activations in nhwc or left to the primitive.
dnnl::convolution_forward::primitive_desc forward_pd(const Shape& x, const Shape& w, const Shape& y,
                                                     const Conv2dParams& p, bool blocked,
                                                     const memory::desc* bias) {
  const ConvAttrs a(p);
  const memory::desc src = blocked ? any_desc(x) : nhwc_desc(x);
  const memory::desc dst = blocked ? any_desc(y) : nhwc_desc(y);
  const memory::desc wei = weights_desc(w, p.groups, true);
  using fwd = dnnl::convolution_forward;
  const fwd::desc d = bias != nullptr
                          ? fwd::desc(prop_kind::forward_training, algorithm::convolution_direct,
                                      src, wei, *bias, dst, a.strides, a.dilates, a.pad_l, a.pad_r)
                          : fwd::desc(prop_kind::forward_training, algorithm::convolution_direct,
                                      src, wei, dst, a.strides, a.dilates, a.pad_l, a.pad_r);
  return fwd::primitive_desc(d, engine());
}

std::string describe(const Tensor& x, const Tensor& w, const Tensor& y, const Conv2dParams& p) {
  return cortex::detail::cat("x ", shape_str(x.shape()), ", w ", shape_str(w.shape()), ", y ",
                             shape_str(y.shape()), ", stride (", p.stride_h, ", ", p.stride_w,
                             "), pads (", p.pad_top, ", ", p.pad_bottom, ", ", p.pad_left, ", ",
                             p.pad_right, "), dilation (", p.dilation_h, ", ", p.dilation_w,
                             "), groups ", p.groups);
}

struct ForwardEntry {
  dnnl::convolution_forward prim;
  Operand src, wei, dst;
};

struct BackwardDataEntry {
  dnnl::convolution_forward::primitive_desc hint;
  dnnl::convolution_backward_data prim;
  Operand diff_dst, wei, diff_src;
};

struct BackwardWeightsEntry {
  dnnl::convolution_forward::primitive_desc hint;
  dnnl::convolution_backward_weights prim;
  Operand src, diff_dst, diff_wei;
  bool has_bias = false;
};

// x: (N, H, W, C), w: (KH, KW, C / G, O), y: (N, OH, OW, O) throughout.
ForwardEntry make_forward(const Shape& x, const Shape& w, const Shape& y, const Conv2dParams& p,
                          bool has_bias) {
  const memory::desc bias_md = plain_desc({w[3]});
  const auto pd = forward_pd(x, w, y, p, false, has_bias ? &bias_md : nullptr);
  return {dnnl::convolution_forward(pd), Operand(nhwc_desc(x), pd.src_desc(), true),
          Operand(weights_desc(w, p.groups, false), pd.weights_desc(), true),
          Operand(nhwc_desc(y), pd.dst_desc(), false)};
}

BackwardDataEntry make_backward_data(const Shape& x, const Shape& w, const Shape& y,
                                     const Conv2dParams& p, bool blocked) {
  const ConvAttrs a(p);
  auto hint = forward_pd(x, w, y, p, blocked, nullptr);
  using bwd = dnnl::convolution_backward_data;
  const bwd::primitive_desc pd(
      bwd::desc(algorithm::convolution_direct, blocked ? any_desc(x) : nhwc_desc(x),
                weights_desc(w, p.groups, true), blocked ? any_desc(y) : nhwc_desc(y), a.strides,
                a.dilates, a.pad_l, a.pad_r),
      engine(), hint);
  return {hint, bwd(pd), Operand(nhwc_desc(y), pd.diff_dst_desc(), true),
          Operand(weights_desc(w, p.groups, false), pd.weights_desc(), true),
          Operand(nhwc_desc(x), pd.diff_src_desc(), false)};
}

// With has_bias the same pass also sums dy into the bias gradient.
BackwardWeightsEntry make_backward_weights(const Shape& x, const Shape& w, const Shape& y,
                                           const Conv2dParams& p, bool blocked, bool has_bias) {
  const ConvAttrs a(p);
  const memory::desc bias_md = plain_desc({w[3]});
  auto hint = forward_pd(x, w, y, p, blocked, has_bias ? &bias_md : nullptr);
  using bwd = dnnl::convolution_backward_weights;
  const memory::desc src = blocked ? any_desc(x) : nhwc_desc(x);
  const memory::desc dst = blocked ? any_desc(y) : nhwc_desc(y);
  const memory::desc wei = weights_desc(w, p.groups, true);
  const bwd::desc d = has_bias ? bwd::desc(algorithm::convolution_direct, src, wei, bias_md, dst,
                                           a.strides, a.dilates, a.pad_l, a.pad_r)
                               : bwd::desc(algorithm::convolution_direct, src, wei, dst, a.strides,
                                           a.dilates, a.pad_l, a.pad_r);
  const bwd::primitive_desc pd(d, engine(), hint);
  return {hint, bwd(pd), Operand(nhwc_desc(x), pd.src_desc(), true),
          Operand(nhwc_desc(y), pd.diff_dst_desc(), true),
          Operand(weights_desc(w, p.groups, false), pd.diff_weights_desc(), false), has_bias};
}

// The weight gradient as matrix products, for groups == 1, kernels larger than
// 1x1 and a receptive field of at least 64 values (KH * KW * C): oneDNN 2.6's direct AVX2 kernel
// ran the lecture CNN's 3x3, 32 -> 64 layer at 61 GFLOP/s on 2 cores, 40 % of
// the matmul peak, and this at about 117 (its blocked layout also cost four
// reorders). Output pixels are taken in chunks whose receptive fields fit in
// the cache: cols (rows, KH * KW * C) holds each one's field (zeros where it
// reaches into the padding) and a 1 for the bias, and
//   [dW; db] (KH * KW * C + 1, O) += colsT . dy[rows]
// is oneDNN's matmul, summing into the result from the second chunk on. The
// HWIO gradient is that product's row-major layout.
bool gemm_backward_weights(const Shape& w, const Conv2dParams& p) {
  return p.groups == 1 && w[0] * w[1] > 1 && w[0] * w[1] * w[2] >= 64;  // 1x1: im2col would be a plain copy
}

constexpr std::size_t kColsBytes = std::size_t{8} << 20;  // per chunk (L3 is 32 MiB here)

// Rows [r0, r0 + rows) of cols (leading dimension ld); with `ones`, column
// KH * KW * C is 1.
void im2col(const float* x, const Shape& xs, const Shape& ws, const Shape& ys, const Conv2dParams& p,
            std::int64_t r0, std::int64_t rows, std::int64_t ld, bool ones, float* cols) {
  const std::int64_t H = xs[1], W = xs[2], C = xs[3], KH = ws[0], KW = ws[1], OH = ys[1], OW = ys[2];
  const std::size_t run = static_cast<std::size_t>(KW * C) * sizeof(float),
                    one = static_cast<std::size_t>(C) * sizeof(float);
#pragma omp parallel for schedule(static) if (rows * ld >= (1 << 16))
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::int64_t g = r0 + r, n = g / (OH * OW), oh = g / OW % OH, ow = g % OW;
    const std::int64_t iw0 = ow * p.stride_w - p.pad_left;
    const bool whole_run = p.dilation_w == 1 && iw0 >= 0 && iw0 + KW <= W;
    float* out = cols + r * ld;
    for (std::int64_t kh = 0; kh < KH; ++kh, out += KW * C) {
      const std::int64_t ih = oh * p.stride_h - p.pad_top + kh * p.dilation_h;
      if (ih < 0 || ih >= H) {
        std::memset(out, 0, run);
        continue;
      }
      const float* row = x + ((n * H + ih) * W) * C;
      if (whole_run) {
        std::memcpy(out, row + iw0 * C, run);
        continue;
      }
      for (std::int64_t kw = 0; kw < KW; ++kw) {
        const std::int64_t iw = iw0 + kw * p.dilation_w;
        if (iw < 0 || iw >= W)
          std::memset(out + kw * C, 0, one);
        else
          std::memcpy(out + kw * C, row + iw * C, one);
      }
    }
    if (ones) *out = 1.0f;
  }
}

struct GemmWeightsEntry {
  dnnl::matmul prim;
};

// x: (N, H, W, C), dy: (N, OH, OW, O) -> dw: (KH, KW, C, O), db: (O) if asked.
void gemm_backward_weights_run(const Tensor& x, const Tensor& dy, Tensor& dw, Tensor* db,
                               const Conv2dParams& p) {
  const Shape &xs = x.shape(), &ws = dw.shape(), &ys = dy.shape();
  const std::int64_t K = ws[0] * ws[1] * ws[2], O = ws[3], ld = K + (db != nullptr ? 1 : 0);
  const std::int64_t total = ys[0] * ys[1] * ys[2];
  const std::int64_t chunk =
      std::clamp<std::int64_t>(static_cast<std::int64_t>(kColsBytes / (sizeof(float) * ld)), 1, total);
  auto* cols = static_cast<float*>(scratch(0, static_cast<std::size_t>(chunk * ld) * sizeof(float)));
  float* out = db != nullptr ? static_cast<float*>(scratch(1, static_cast<std::size_t>(ld * O) * sizeof(float)))
                             : dw.data<float>();
  const memory::desc dst = plain_desc({ld, O});
  for (std::int64_t r0 = 0; r0 < total; r0 += chunk) {
    const std::int64_t rows = std::min(chunk, total - r0);
    im2col(x.data<float>(), xs, ws, ys, p, r0, rows, ld, db != nullptr, cols);
    const memory::desc src({ld, rows}, memory::data_type::f32, memory::dims{1, ld});
    const memory::desc wei = plain_desc({rows, O});
    const bool sum = r0 > 0;
    const auto e = cached<GemmWeightsEntry>(key("conv_bwd_w_gemm", ld, rows, O, sum), [&] {
      dnnl::primitive_attr attr;
      dnnl::post_ops ops;
      if (sum) ops.append_sum(1.0f);
      attr.set_post_ops(ops);
      return GemmWeightsEntry{dnnl::matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, wei, dst), attr, engine()))};
    });
    e->prim.execute(stream(), {{DNNL_ARG_SRC, memory(src, engine(), cols)},
                               {DNNL_ARG_WEIGHTS, memory(wei, engine(), static_cast<float*>(handle(dy)) + r0 * O)},
                               {DNNL_ARG_DST, memory(dst, engine(), out)}});
  }
  if (db != nullptr) {
    std::memcpy(dw.data<float>(), out, static_cast<std::size_t>(K * O) * sizeof(float));
    std::memcpy(db->data<float>(), out + K * O, static_cast<std::size_t>(O) * sizeof(float));
  }
}

}  // namespace

// x: (N, H, W, C), w: (KH, KW, C / groups, O), bias: (O) or null -> y: (N, OH, OW, O).
void conv2d(const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& y,
            const Conv2dParams& p) {
  const bool bias_ok =
      bias == nullptr || (bias->dtype() == DType::f32 && bias->is_contiguous() &&
                          bias->shape() == Shape{w.dim() == 4 ? w.shape()[3] : -1});
  if (!fast_geometry(x, w, y, p) || !bias_ok)
    return ref_kernel(&Kernels::conv2d, "conv2d")(x, w, bias, y, p);
  const bool has_bias = bias != nullptr;
  run_dnnl(
      "conv2d", [&] { return describe(x, w, y, p); },
      [&] {
        const auto e = cached<ForwardEntry>(
            conv_key("conv_fwd", x.shape(), w.shape(), p, has_bias),
            [&] { return make_forward(x.shape(), w.shape(), y.shape(), p, has_bias); });
        const memory dst = e->dst.output(handle(y), 2);
        std::unordered_map<int, memory> args{{DNNL_ARG_SRC, e->src.input(handle(x), 0)},
                                             {DNNL_ARG_WEIGHTS, e->wei.input(handle(w), 1)},
                                             {DNNL_ARG_DST, dst}};
        if (has_bias)
          args.emplace(DNNL_ARG_BIAS, memory(plain_desc({w.shape()[3]}), engine(), handle(*bias)));
        e->prim.execute(stream(), args);
        e->dst.finish(dst, handle(y));
      });
}

// dy: (N, OH, OW, O), w: (KH, KW, C / groups, O) -> dx: (N, H, W, C).
void conv2d_backward_data(const Tensor& dy, const Tensor& w, Tensor& dx, const Conv2dParams& p) {
  if (!fast_geometry(dx, w, dy, p))
    return ref_kernel(&Kernels::conv2d_backward_data, "conv2d_backward_data")(dy, w, dx, p);
  const bool blocked = blocked_backward(dx.shape(), w.shape(), p);
  run_dnnl(
      "conv2d_backward_data", [&] { return describe(dx, w, dy, p); },
      [&] {
        const auto e = cached<BackwardDataEntry>(
            conv_key("conv_bwd_data", dx.shape(), w.shape(), p, blocked),
            [&] { return make_backward_data(dx.shape(), w.shape(), dy.shape(), p, blocked); });
        const memory diff_src = e->diff_src.output(handle(dx), 2);
        e->prim.execute(stream(), {{DNNL_ARG_DIFF_DST, e->diff_dst.input(handle(dy), 0)},
                                   {DNNL_ARG_WEIGHTS, e->wei.input(handle(w), 1)},
                                   {DNNL_ARG_DIFF_SRC, diff_src}});
        e->diff_src.finish(diff_src, handle(dx));
      });
}

// x: (N, H, W, C), dy: (N, OH, OW, O) -> dw: (KH, KW, C / groups, O), db: (O) if asked.
void conv2d_backward_weight(const Tensor& x, const Tensor& dy, Tensor& dw, Tensor* db,
                            const Conv2dParams& p) {
  const bool bias_ok = db == nullptr || (db->dtype() == DType::f32 && db->is_contiguous() &&
                                         db->shape() == Shape{dw.dim() == 4 ? dw.shape()[3] : -1});
  if (!fast_geometry(x, dw, dy, p) || !bias_ok)
    return ref_kernel(&Kernels::conv2d_backward_weight, "conv2d_backward_weight")(x, dy, dw, db, p);
  if (gemm_backward_weights(dw.shape(), p))
    return run_dnnl("conv2d_backward_weight", [&] { return describe(x, dw, dy, p); },
                    [&] { gemm_backward_weights_run(x, dy, dw, db, p); });
  const bool blocked = blocked_backward(x.shape(), dw.shape(), p);
  const bool has_bias = db != nullptr;
  run_dnnl(
      "conv2d_backward_weight", [&] { return describe(x, dw, dy, p); },
      [&] {
        const auto e = cached<BackwardWeightsEntry>(
            conv_key(has_bias ? "conv_bwd_wb" : "conv_bwd_w", x.shape(), dw.shape(), p, blocked),
            [&] {
              return make_backward_weights(x.shape(), dw.shape(), dy.shape(), p, blocked, has_bias);
            });
        const memory diff_wei = e->diff_wei.output(handle(dw), 2);
        std::unordered_map<int, memory> args{{DNNL_ARG_SRC, e->src.input(handle(x), 0)},
                                             {DNNL_ARG_DIFF_DST, e->diff_dst.input(handle(dy), 1)},
                                             {DNNL_ARG_DIFF_WEIGHTS, diff_wei}};
        if (has_bias)
          args.emplace(DNNL_ARG_DIFF_BIAS, memory(plain_desc({dw.shape()[3]}), engine(), handle(*db)));
        e->prim.execute(stream(), args);
        e->diff_wei.finish(diff_wei, handle(dw));
      });
}

}  // namespace cortex::backend::cpu
