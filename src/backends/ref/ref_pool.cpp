// Reference 2-D max and average pooling on NHWC tensors, and their gradients.
//
// Output pixel (oh, ow) pools input rows oh * stride_h - pad_top + [0, kernel_h)
// (likewise for columns); cells outside the input are padding: max never picks
// them and avg does not count them. The ref max-pool workspace is an i64 tensor
// shaped like y holding the flat index h * W + w of each chosen input cell
// within its (n, c) plane.
#include <cmath>
#include <cstdint>
#include <optional>
#include <vector>

#include "backends/ref/ref_common.h"
#include "backends/ref/ref_kernels.h"

namespace cortex::backend::ref {
namespace {

struct PoolGeometry {
  std::int64_t N, H, W, C, OH, OW;
};

// Checks that x: (N, H, W, C) and y: (N, OH, OW, C) fit together under p.
PoolGeometry pool_geometry(const Shape& x, const Shape& y, const Pool2dParams& p, const char* what) {
  if (x.size() != 4 || y.size() != 4)
    fail<ShapeError>("ref ", what, " expects rank-4 NHWC x and y, got ", shape_str(x), " and ",
                     shape_str(y));
  if (p.kernel_h < 1 || p.kernel_w < 1 || p.stride_h < 1 || p.stride_w < 1 || p.pad_top < 0 ||
      p.pad_bottom < 0 || p.pad_left < 0 || p.pad_right < 0)
    fail<ValueError>("ref ", what, " expects kernel sizes and strides >= 1 and paddings >= 0");
  const std::int64_t in_h = x[1] + p.pad_top + p.pad_bottom, in_w = x[2] + p.pad_left + p.pad_right;
  const Shape want_y{x[0], in_h < p.kernel_h ? -1 : (in_h - p.kernel_h) / p.stride_h + 1,
                     in_w < p.kernel_w ? -1 : (in_w - p.kernel_w) / p.stride_w + 1, x[3]};
  if (y != want_y)
    fail<ShapeError>("ref ", what, ": x ", shape_str(x), " gives y ", shape_str(want_y), ", got ",
                     shape_str(y));
  return {x[0], x[1], x[2], x[3], y[1], y[2]};
}

// Calls fn(h, w) for each in-bounds input cell of output pixel (oh, ow)'s window.
template <typename Fn>
void for_window(const PoolGeometry& g, const Pool2dParams& p, std::int64_t oh, std::int64_t ow,
                Fn&& fn) {
  for (std::int64_t kh = 0; kh < p.kernel_h; ++kh) {
    const std::int64_t h = oh * p.stride_h - p.pad_top + kh;
    if (h < 0 || h >= g.H) continue;
    for (std::int64_t kw = 0; kw < p.kernel_w; ++kw) {
      const std::int64_t w = ow * p.stride_w - p.pad_left + kw;
      if (w >= 0 && w < g.W) fn(h, w);
    }
  }
}

std::int64_t window_count(const PoolGeometry& g, const Pool2dParams& p, std::int64_t oh, std::int64_t ow) {
  std::int64_t count = 0;
  for_window(g, p, oh, ow, [&](std::int64_t, std::int64_t) { ++count; });
  return count;
}

// Flat index h * W + w of the window's maximum (the first one, or the first
// NaN), or -1 when the window holds no input cell.
template <typename T>
std::int64_t max_index(const View<const T, 4>& xv, const PoolGeometry& g, const Pool2dParams& p,
                       std::int64_t n, std::int64_t oh, std::int64_t ow, std::int64_t c) {
  std::int64_t best = -1;
  for_window(g, p, oh, ow, [&](std::int64_t h, std::int64_t w) {
    const T v = xv(n, h, w, c);
    if (best < 0) {
      best = h * g.W + w;
      return;
    }
    const T b = xv(n, best / g.W, best % g.W, c);
    if (!std::isnan(b) && (std::isnan(v) || v > b)) best = h * g.W + w;
  });
  return best;
}

[[noreturn]] void padding_only_window(std::int64_t oh, std::int64_t ow) {
  fail<ValueError>("ref pool2d: the window of output pixel (", oh, ", ", ow,
                   ") lies entirely in the padding");
}

}  // namespace

// x: (N, H, W, C) -> y: (N, OH, OW, C); workspace (max only, when not null): i64 (N, OH, OW, C).
void pool2d(const Pool2dParams& p, const Tensor& x, Tensor& y, Tensor* workspace) {
  const PoolGeometry g = pool_geometry(x.shape(), y.shape(), p, "pool2d");
  const bool is_max = p.kind == PoolKind::max;
  std::optional<View<std::int64_t, 4>> wsv;  // workspace: (N, OH, OW, C) i64
  if (is_max && workspace != nullptr) {
    *workspace = Tensor::empty(y.shape(), DType::i64);
    wsv.emplace(*workspace, "pool2d", "workspace");
  }
  visit_float(x.dtype(), "pool2d", [&](auto tag) {
    using T = decltype(tag);
    const View<const T, 4> xv(x, "pool2d", "x");
    const View<T, 4> yv(y, "pool2d", "y");
    for (std::int64_t n = 0; n < g.N; ++n)
      for (std::int64_t oh = 0; oh < g.OH; ++oh)
        for (std::int64_t ow = 0; ow < g.OW; ++ow)
          for (std::int64_t c = 0; c < g.C; ++c) {
            if (is_max) {
              const std::int64_t best = max_index(xv, g, p, n, oh, ow, c);
              if (best < 0) padding_only_window(oh, ow);
              yv(n, oh, ow, c) = xv(n, best / g.W, best % g.W, c);
              if (wsv) (*wsv)(n, oh, ow, c) = best;
              continue;
            }
            double sum = 0.0;
            for_window(g, p, oh, ow, [&](std::int64_t h, std::int64_t w) { sum += xv(n, h, w, c); });
            const std::int64_t count = window_count(g, p, oh, ow);
            if (count == 0) padding_only_window(oh, ow);
            yv(n, oh, ow, c) = static_cast<T>(sum / static_cast<double>(count));
          }
  });
}

// x: (N, H, W, C), dy: (N, OH, OW, C), workspace: what pool2d wrote (or undefined,
// then max positions are recomputed from x) -> dx: (N, H, W, C). Accumulated in double.
void pool2d_backward(const Pool2dParams& p, const Tensor& x, const Tensor& dy,
                     const Tensor& workspace, Tensor& dx) {
  const PoolGeometry g = pool_geometry(x.shape(), dy.shape(), p, "pool2d_backward");
  expect_shape(dx, x.shape(), "pool2d_backward", "dx");
  std::optional<View<const std::int64_t, 4>> wsv;  // workspace: (N, OH, OW, C) i64
  if (p.kind == PoolKind::max && workspace.defined()) {
    if (workspace.dtype() != DType::i64)
      fail<ValueError>("ref max-pool backward expects the i64 workspace of the ref forward, got ",
                       dtype_name(workspace.dtype()));
    expect_shape(workspace, dy.shape(), "pool2d_backward", "workspace");
    wsv.emplace(workspace, "pool2d_backward", "workspace");
  }
  visit_float(x.dtype(), "pool2d_backward", [&](auto tag) {
    using T = decltype(tag);
    const View<const T, 4> xv(x, "pool2d_backward", "x");
    const View<const T, 4> dyv(dy, "pool2d_backward", "dy");
    const View<T, 4> dxv(dx, "pool2d_backward", "dx");
    std::vector<double> acc(static_cast<std::size_t>(numel(x.shape())), 0.0);  // (N, H, W, C)
    const auto at = [&](std::int64_t n, std::int64_t h, std::int64_t w, std::int64_t c) -> double& {
      return acc[static_cast<std::size_t>(((n * g.H + h) * g.W + w) * g.C + c)];
    };
    for (std::int64_t n = 0; n < g.N; ++n)
      for (std::int64_t oh = 0; oh < g.OH; ++oh)
        for (std::int64_t ow = 0; ow < g.OW; ++ow)
          for (std::int64_t c = 0; c < g.C; ++c) {
            const double d = dyv(n, oh, ow, c);
            if (p.kind == PoolKind::max) {
              std::int64_t best = -1;
              if (wsv) {
                best = (*wsv)(n, oh, ow, c);
                if (best < 0 || best >= g.H * g.W)
                  fail<IndexError>("ref max-pool backward: workspace index ", best,
                                   " is outside the plane [0, ", g.H * g.W, ")");
              } else {
                best = max_index(xv, g, p, n, oh, ow, c);
                if (best < 0) continue;  // a padding-only window sends no gradient
              }
              at(n, best / g.W, best % g.W, c) += d;
              continue;
            }
            const std::int64_t count = window_count(g, p, oh, ow);
            for_window(g, p, oh, ow, [&](std::int64_t h, std::int64_t w) {
              at(n, h, w, c) += d / static_cast<double>(count);
            });
          }
    for (std::int64_t n = 0; n < g.N; ++n)
      for (std::int64_t h = 0; h < g.H; ++h)
        for (std::int64_t w = 0; w < g.W; ++w)
          for (std::int64_t c = 0; c < g.C; ++c) dxv(n, h, w, c) = static_cast<T>(at(n, h, w, c));
  });
}

}  // namespace cortex::backend::ref
