// Reference 2-D convolution (NHWC input, HWIO weight, groups, asymmetric
// padding, dilation) and its two gradients, as direct loops accumulated in double.
//
// Output pixel (oh, ow) reads input row ih = oh * stride_h - pad_top + kh * dilation_h
// (likewise for columns); output channel o belongs to group g = o / (O / groups),
// whose input channels are g * (C / groups) .. (g + 1) * (C / groups) - 1.
#include <cstdint>
#include <optional>

#include "backends/ref/ref_common.h"
#include "backends/ref/ref_kernels.h"

namespace cortex::backend::ref {
namespace {

struct ConvGeometry {
  std::int64_t N, H, W, C, KH, KW, O, OH, OW;
  std::int64_t Cg, Og;  // channels per group: input, output
};

// Checks that x: (N, H, W, C), w: (KH, KW, C / groups, O) and y: (N, OH, OW, O)
// fit together under p, and returns the sizes.
ConvGeometry conv_geometry(const Shape& x, const Shape& w, const Shape& y, const Conv2dParams& p,
                           const char* what) {
  if (x.size() != 4 || w.size() != 4 || y.size() != 4)
    fail<ShapeError>("ref ", what, " expects rank-4 x (NHWC), w (HWIO) and y (NHWC), got ",
                     shape_str(x), ", ", shape_str(w), ", ", shape_str(y));
  if (p.stride_h < 1 || p.stride_w < 1 || p.dilation_h < 1 || p.dilation_w < 1 || p.groups < 1 ||
      p.pad_top < 0 || p.pad_bottom < 0 || p.pad_left < 0 || p.pad_right < 0)
    fail<ValueError>("ref ", what, " expects strides, dilations and groups >= 1 and paddings >= 0");
  ConvGeometry g{x[0], x[1], x[2], x[3], w[0], w[1], w[3], y[1], y[2], 0, 0};
  if (g.C % p.groups != 0 || g.O % p.groups != 0)
    fail<ShapeError>("ref ", what, " expects input channels ", g.C, " and output channels ", g.O,
                     " divisible by groups ", p.groups);
  g.Cg = g.C / p.groups;
  g.Og = g.O / p.groups;
  const std::int64_t span_h = p.dilation_h * (g.KH - 1) + 1, span_w = p.dilation_w * (g.KW - 1) + 1;
  const std::int64_t in_h = g.H + p.pad_top + p.pad_bottom, in_w = g.W + p.pad_left + p.pad_right;
  const Shape want_w{g.KH, g.KW, g.Cg, g.O};
  const Shape want_y{g.N, in_h < span_h ? -1 : (in_h - span_h) / p.stride_h + 1,
                     in_w < span_w ? -1 : (in_w - span_w) / p.stride_w + 1, g.O};
  if (w != want_w || y != want_y)
    fail<ShapeError>("ref ", what, ": x ", shape_str(x), " and w ", shape_str(w), " (expected ",
                     shape_str(want_w), ") give y ", shape_str(want_y), ", got ", shape_str(y));
  return g;
}

// Input coordinate read by output coordinate `out` through kernel tap `k`.
std::int64_t in_coord(std::int64_t out, std::int64_t k, std::int64_t stride, std::int64_t pad,
                      std::int64_t dilation) {
  return out * stride - pad + k * dilation;
}

// The output coordinate whose tap `k` reads input coordinate `in`, or -1 if none.
std::int64_t out_coord(std::int64_t in, std::int64_t k, std::int64_t stride, std::int64_t pad,
                       std::int64_t dilation, std::int64_t out_size) {
  const std::int64_t t = in + pad - k * dilation;
  if (t < 0 || t % stride != 0 || t / stride >= out_size) return -1;
  return t / stride;
}

}  // namespace

// x: (N, H, W, C), w: (KH, KW, C / groups, O), bias: (O) or null -> y: (N, OH, OW, O).
void conv2d(const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& y, const Conv2dParams& p) {
  const ConvGeometry g = conv_geometry(x.shape(), w.shape(), y.shape(), p, "conv2d");
  visit_float(x.dtype(), "conv2d", [&](auto tag) {
    using T = decltype(tag);
    const View<const T, 4> xv(x, "conv2d", "x");
    const View<const T, 4> wv(w, "conv2d", "w");
    const View<T, 4> yv(y, "conv2d", "y");
    std::optional<View<const T, 1>> bv;
    if (bias != nullptr) {
      expect_shape(*bias, {g.O}, "conv2d", "bias");
      bv.emplace(*bias, "conv2d", "bias");
    }
    for (std::int64_t n = 0; n < g.N; ++n)
      for (std::int64_t oh = 0; oh < g.OH; ++oh)
        for (std::int64_t ow = 0; ow < g.OW; ++ow)
          for (std::int64_t o = 0; o < g.O; ++o) {
            const std::int64_t c0 = (o / g.Og) * g.Cg;
            double acc = bv ? static_cast<double>((*bv)(o)) : 0.0;
            for (std::int64_t kh = 0; kh < g.KH; ++kh) {
              const std::int64_t ih = in_coord(oh, kh, p.stride_h, p.pad_top, p.dilation_h);
              if (ih < 0 || ih >= g.H) continue;
              for (std::int64_t kw = 0; kw < g.KW; ++kw) {
                const std::int64_t iw = in_coord(ow, kw, p.stride_w, p.pad_left, p.dilation_w);
                if (iw < 0 || iw >= g.W) continue;
                for (std::int64_t ci = 0; ci < g.Cg; ++ci)
                  acc += static_cast<double>(xv(n, ih, iw, c0 + ci)) * wv(kh, kw, ci, o);
              }
            }
            yv(n, oh, ow, o) = static_cast<T>(acc);
          }
  });
}

// dy: (N, OH, OW, O), w: (KH, KW, C / groups, O) -> dx: (N, H, W, C).
// Each dx element gathers every (output pixel, tap) that read it.
void conv2d_backward_data(const Tensor& dy, const Tensor& w, Tensor& dx, const Conv2dParams& p) {
  const ConvGeometry g = conv_geometry(dx.shape(), w.shape(), dy.shape(), p, "conv2d_backward_data");
  visit_float(dy.dtype(), "conv2d_backward_data", [&](auto tag) {
    using T = decltype(tag);
    const View<const T, 4> dyv(dy, "conv2d_backward_data", "dy");
    const View<const T, 4> wv(w, "conv2d_backward_data", "w");
    const View<T, 4> dxv(dx, "conv2d_backward_data", "dx");
    for (std::int64_t n = 0; n < g.N; ++n)
      for (std::int64_t ih = 0; ih < g.H; ++ih)
        for (std::int64_t iw = 0; iw < g.W; ++iw)
          for (std::int64_t c = 0; c < g.C; ++c) {
            const std::int64_t ci = c % g.Cg, o0 = (c / g.Cg) * g.Og;
            double acc = 0.0;
            for (std::int64_t kh = 0; kh < g.KH; ++kh) {
              const std::int64_t oh = out_coord(ih, kh, p.stride_h, p.pad_top, p.dilation_h, g.OH);
              if (oh < 0) continue;
              for (std::int64_t kw = 0; kw < g.KW; ++kw) {
                const std::int64_t ow = out_coord(iw, kw, p.stride_w, p.pad_left, p.dilation_w, g.OW);
                if (ow < 0) continue;
                for (std::int64_t o = o0; o < o0 + g.Og; ++o)
                  acc += static_cast<double>(dyv(n, oh, ow, o)) * wv(kh, kw, ci, o);
              }
            }
            dxv(n, ih, iw, c) = static_cast<T>(acc);
          }
  });
}

// x: (N, H, W, C), dy: (N, OH, OW, O) -> dw: (KH, KW, C / groups, O), db: (O) if asked.
void conv2d_backward_weight(const Tensor& x, const Tensor& dy, Tensor& dw, Tensor* db,
                            const Conv2dParams& p) {
  const ConvGeometry g = conv_geometry(x.shape(), dw.shape(), dy.shape(), p, "conv2d_backward_weight");
  visit_float(x.dtype(), "conv2d_backward_weight", [&](auto tag) {
    using T = decltype(tag);
    const View<const T, 4> xv(x, "conv2d_backward_weight", "x");
    const View<const T, 4> dyv(dy, "conv2d_backward_weight", "dy");
    const View<T, 4> dwv(dw, "conv2d_backward_weight", "dw");
    for (std::int64_t kh = 0; kh < g.KH; ++kh)
      for (std::int64_t kw = 0; kw < g.KW; ++kw)
        for (std::int64_t ci = 0; ci < g.Cg; ++ci)
          for (std::int64_t o = 0; o < g.O; ++o) {
            const std::int64_t c = (o / g.Og) * g.Cg + ci;
            double acc = 0.0;
            for (std::int64_t n = 0; n < g.N; ++n)
              for (std::int64_t oh = 0; oh < g.OH; ++oh) {
                const std::int64_t ih = in_coord(oh, kh, p.stride_h, p.pad_top, p.dilation_h);
                if (ih < 0 || ih >= g.H) continue;
                for (std::int64_t ow = 0; ow < g.OW; ++ow) {
                  const std::int64_t iw = in_coord(ow, kw, p.stride_w, p.pad_left, p.dilation_w);
                  if (iw < 0 || iw >= g.W) continue;
                  acc += static_cast<double>(xv(n, ih, iw, c)) * dyv(n, oh, ow, o);
                }
              }
            dwv(kh, kw, ci, o) = static_cast<T>(acc);
          }
    if (db == nullptr) return;
    expect_dtype(*db, x.dtype(), "conv2d_backward_weight", "db");
    expect_shape(*db, Shape{g.O}, "conv2d_backward_weight", "db");
    const View<T, 1> dbv(*db, "conv2d_backward_weight", "db");
    for (std::int64_t o = 0; o < g.O; ++o) {
      double acc = 0.0;
      for (std::int64_t n = 0; n < g.N; ++n)
        for (std::int64_t oh = 0; oh < g.OH; ++oh)
          for (std::int64_t ow = 0; ow < g.OW; ++ow) acc += dyv(n, oh, ow, o);
      dbv(o) = static_cast<T>(acc);
    }
  });
}

}  // namespace cortex::backend::ref
