// Reference batch normalisation over the rows of a (..., C) tensor, and its
// training-mode gradient; sums accumulate in double.
#include <cmath>
#include <cstdint>
#include <vector>

#include "backends/ref/ref_common.h"
#include "backends/ref/ref_kernels.h"

namespace cortex::backend::ref {
namespace {

// Rows and channels of x (..., C), after checking the per-channel operands.
std::pair<std::int64_t, std::int64_t> rows_and_channels(const Tensor& x,
                                                        std::initializer_list<const Tensor*> per_channel,
                                                        std::initializer_list<const Tensor*> like_x,
                                                        const char* what) {
  if (x.dim() < 1 || x.shape().back() < 1)
    fail<ShapeError>("ref ", what, " expects x of shape (..., C) with C >= 1, got ", shape_str(x.shape()));
  const std::int64_t C = x.shape().back();
  for (const Tensor* t : per_channel)
    if (t != nullptr) {
      expect_shape(*t, {C}, what, "a per-channel tensor");
      expect_dtype(*t, x.dtype(), what, "a per-channel tensor");
    }
  for (const Tensor* t : like_x) {
    expect_shape(*t, x.shape(), what, "an operand shaped like x");
    expect_dtype(*t, x.dtype(), what, "an operand shaped like x");
  }
  for (const Tensor* t : per_channel)
    if (t != nullptr && !t->is_contiguous()) fail("ref ", what, " expects contiguous operands");
  for (const Tensor* t : like_x)
    if (!t->is_contiguous()) fail("ref ", what, " expects contiguous operands");
  if (!x.is_contiguous()) fail("ref ", what, " expects a contiguous x");
  return {x.numel() / C, C};
}

template <typename T>
const T* ptr(const Tensor* t) {
  return t == nullptr ? nullptr : t->data<T>();
}

}  // namespace

void batch_norm(const Tensor& x, const Tensor* gamma, const Tensor* beta, bool training, double eps, Tensor& mean,
                Tensor& var, Tensor& y, Tensor* /*workspace: none*/) {
  const char* what = "batch_norm";
  const auto [R, C] = rows_and_channels(x, {gamma, beta, &mean, &var}, {&y}, what);
  visit_float(x.dtype(), what, [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    T *pm = mean.data<T>(), *pv = var.data<T>(), *py = y.data<T>();
    if (training) {
      std::vector<double> s(C, 0.0), sq(C, 0.0);
      for (std::int64_t r = 0; r < R; ++r)
        for (std::int64_t c = 0; c < C; ++c) s[c] += px[r * C + c];
      for (std::int64_t c = 0; c < C; ++c) s[c] /= static_cast<double>(R);
      for (std::int64_t r = 0; r < R; ++r)
        for (std::int64_t c = 0; c < C; ++c) {
          const double d = px[r * C + c] - s[c];
          sq[c] += d * d;
        }
      for (std::int64_t c = 0; c < C; ++c) {
        pm[c] = static_cast<T>(s[c]);
        pv[c] = static_cast<T>(sq[c] / static_cast<double>(R));  // biased, as Keras normalises
      }
    }
    const T *pg = ptr<T>(gamma), *pb = ptr<T>(beta);
    for (std::int64_t r = 0; r < R; ++r)
      for (std::int64_t c = 0; c < C; ++c) {
        const double xhat = (px[r * C + c] - static_cast<double>(pm[c])) / std::sqrt(static_cast<double>(pv[c]) + eps);
        py[r * C + c] = static_cast<T>(xhat * (pg ? pg[c] : 1.0) + (pb ? pb[c] : 0.0));
      }
  });
}

// xhat = (x - mean) * invstd; dbeta = sum dy; dgamma = sum dy * xhat;
// dx = gamma * invstd * (dy - dbeta / R - xhat * dgamma / R).
void batch_norm_backward(const Tensor& x, const Tensor& dy, const Tensor* gamma, const Tensor& mean, const Tensor& var,
                         double eps, const Tensor& /*workspace*/, Tensor& dx, Tensor* dgamma, Tensor* dbeta) {
  const char* what = "batch_norm_backward";
  const auto [R, C] = rows_and_channels(x, {gamma, &mean, &var, dgamma, dbeta}, {&dy, &dx}, what);
  visit_float(x.dtype(), what, [&](auto tag) {
    using T = decltype(tag);
    const T *px = x.data<T>(), *pdy = dy.data<T>(), *pm = mean.data<T>(), *pv = var.data<T>(), *pg = ptr<T>(gamma);
    T* pdx = dx.data<T>();
    std::vector<double> invstd(C), sum_dy(C, 0.0), sum_dy_xhat(C, 0.0);
    for (std::int64_t c = 0; c < C; ++c) invstd[c] = 1.0 / std::sqrt(static_cast<double>(pv[c]) + eps);
    for (std::int64_t r = 0; r < R; ++r)
      for (std::int64_t c = 0; c < C; ++c) {
        const double g = pdy[r * C + c];
        sum_dy[c] += g;
        sum_dy_xhat[c] += g * (px[r * C + c] - static_cast<double>(pm[c])) * invstd[c];
      }
    for (std::int64_t r = 0; r < R; ++r)
      for (std::int64_t c = 0; c < C; ++c) {
        const double xhat = (px[r * C + c] - static_cast<double>(pm[c])) * invstd[c];
        const double scale = (pg ? static_cast<double>(pg[c]) : 1.0) * invstd[c];
        const double rows = static_cast<double>(R);
        pdx[r * C + c] = static_cast<T>(scale * (pdy[r * C + c] - sum_dy[c] / rows - xhat * sum_dy_xhat[c] / rows));
      }
    for (std::int64_t c = 0; c < C; ++c) {
      if (dgamma != nullptr) dgamma->data<T>()[c] = static_cast<T>(sum_dy_xhat[c]);
      if (dbeta != nullptr) dbeta->data<T>()[c] = static_cast<T>(sum_dy[c]);
    }
  });
}

}  // namespace cortex::backend::ref
