// Reference gather and scatter_add along the middle axis of (O, N, I) tensors
// (the ops layer folds the axes before and after the indexed one into O and I).
#include <cstdint>

#include "backends/ref/ref_common.h"
#include "backends/ref/ref_kernels.h"

namespace cortex::backend::ref {
namespace {

std::int64_t checked_index(std::int64_t i, std::int64_t n, const char* what) {
  if (i < 0 || i >= n) fail<IndexError>("ref ", what, ": index ", i, " is out of range [0, ", n, ")");
  return i;
}

}  // namespace

// out[o, m, i] = x[o, index[o, m, i], i].
// x: (O, N, I) any dtype; index: (O, M, I) i64; out: (O, M, I) x's dtype.
void gather(const Tensor& x, const Tensor& index, Tensor& out) {
  const View<const std::int64_t, 3> iv(index, "gather", "index");
  expect_rank(x, 3, "gather", "x");
  const std::int64_t O = iv.size(0), M = iv.size(1), I = iv.size(2), N = x.shape()[1];
  expect_shape(x, {O, N, I}, "gather", "x");
  expect_shape(out, {O, M, I}, "gather", "out");
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const View<const T, 3> xv(x, "gather", "x");
    const View<T, 3> ov(out, "gather", "out");
    for (std::int64_t o = 0; o < O; ++o)
      for (std::int64_t m = 0; m < M; ++m)
        for (std::int64_t i = 0; i < I; ++i)
          ov(o, m, i) = xv(o, checked_index(iv(o, m, i), N, "gather"), i);
  });
}

// out[o, index[o, m, i], i] += src[o, m, i], in row-major order of src.
// src: (O, M, I) f32 or f64; index: (O, M, I) i64; out: (O, N, I) src's dtype.
void scatter_add(const Tensor& src, const Tensor& index, Tensor& out) {
  const View<const std::int64_t, 3> iv(index, "scatter_add", "index");
  expect_rank(out, 3, "scatter_add", "out");
  const std::int64_t O = iv.size(0), M = iv.size(1), I = iv.size(2), N = out.shape()[1];
  expect_shape(src, index.shape(), "scatter_add", "src");
  expect_shape(out, {O, N, I}, "scatter_add", "out");
  visit_float(src.dtype(), "scatter_add", [&](auto tag) {
    using T = decltype(tag);
    const View<const T, 3> sv(src, "scatter_add", "src");
    const View<T, 3> ov(out, "scatter_add", "out");
    for (std::int64_t o = 0; o < O; ++o)
      for (std::int64_t m = 0; m < M; ++m)
        for (std::int64_t i = 0; i < I; ++i)
          ov(o, checked_index(iv(o, m, i), N, "scatter_add"), i) += sv(o, m, i);
  });
}

}  // namespace cortex::backend::ref
