// Reference kernels for dropout masks (Philox Bernoulli draws) and the fused
// optimiser updates; each element's arithmetic is done in double.
#include <cmath>
#include <algorithm>
#include <cstdint>
#include <vector>

#include "backends/ref/ref_common.h"
#include "backends/ref/ref_kernels.h"
#include "cortex/core/philox.h"

namespace cortex::backend::ref {

// out: contiguous f32/f64. Element i takes word i % 4 of block first_block + i / 4,
// as cortex::bernoulli does on the host. Blocks are drawn 256 at a time into a
// buffer, a loop the compiler vectorises (32-bit multiplies across lanes).
void bernoulli(Tensor& out, double p, double scale, std::uint64_t seed, std::uint64_t first_block) {
  if (!out.is_contiguous()) fail<ValueError>("ref bernoulli expects a contiguous output");
  const std::int64_t n = out.numel(), blocks = (n + 3) / 4;
  constexpr std::int64_t kChunk = 256;
  // Compared as integers: uniform01(w) < p  <=>  (w >> 8) < p * 2^24, exactly.
  const double threshold = p * 16777216.0;
  visit_float(out.dtype(), "bernoulli", [&](auto tag) {
    using T = decltype(tag);
    T* o = storage_ptr<T>(out) + out.offset();
    const T on = static_cast<T>(scale);
#pragma omp parallel for if (n > 65536)
    for (std::int64_t c = 0; c < (blocks + kChunk - 1) / kChunk; ++c) {
      std::uint32_t words[kChunk * 4];
      const std::int64_t b0 = c * kChunk, len = std::min(kChunk, blocks - b0);
#pragma omp simd
      for (std::int64_t b = 0; b < len; ++b)
        philox4x32_10(seed, first_block + static_cast<std::uint64_t>(b0 + b), words + 4 * b);
      const std::int64_t i0 = b0 * 4, count = std::min(len * 4, n - i0);
      for (std::int64_t k = 0; k < count; ++k) o[i0 + k] = static_cast<double>(words[k] >> 8) < threshold ? on : T(0);
    }
  });
}

namespace {
// A contiguous tensor as a 1-D view of its elements.
Tensor flat(const Tensor& t) {
  if (!t.is_contiguous()) fail<ValueError>("ref optimizer_step expects contiguous tensors, got strides ", shape_str(t.strides()));
  return t.as_strided({t.numel()}, {1}, t.offset());
}
}  // namespace

// param, grad, slots: contiguous, one shape and float dtype. Element-wise, so
// the result does not depend on the thread count (the cpu backend runs it too).
void optimizer_step(const OptimizerStep& s, Tensor& param, const Tensor& grad, Tensor* slots) {
  const int nslots = slot_count(s);
  expect_shape(grad, param.shape(), "optimizer_step", "grad");
  expect_dtype(grad, param.dtype(), "optimizer_step", "grad");
  for (int k = 0; k < nslots; ++k) {
    expect_shape(slots[k], param.shape(), "optimizer_step", "slot");
    expect_dtype(slots[k], param.dtype(), "optimizer_step", "slot");
  }
  visit_float(param.dtype(), "optimizer_step", [&](auto tag) {
    using T = decltype(tag);
    T* p = storage_ptr<T>(flat(param)) + param.offset();
    const T* g = storage_ptr<T>(flat(grad)) + grad.offset();
    T* sl[3] = {nullptr, nullptr, nullptr};
    for (int k = 0; k < nslots; ++k) sl[k] = storage_ptr<T>(flat(slots[k])) + slots[k].offset();
    const std::int64_t n = param.numel();
    switch (s.kind) {
      case OptimizerKind::sgd:
        if (nslots == 0) {
#pragma omp parallel for if (n > 32768)
          for (std::int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(p[i] - double(g[i]) * s.lr);
        } else {
#pragma omp parallel for if (n > 32768)
          for (std::int64_t i = 0; i < n; ++i) {
            const double gi = g[i], m = sl[0][i] * s.momentum - gi * s.lr;
            sl[0][i] = static_cast<T>(m);
            p[i] = static_cast<T>(p[i] + (s.nesterov ? m * s.momentum - gi * s.lr : m));
          }
        }
        break;
      case OptimizerKind::adadelta:
#pragma omp parallel for if (n > 32768)
        for (std::int64_t i = 0; i < n; ++i) {
          const double gi = g[i], acc_g = sl[0][i] * s.rho + gi * gi * (1 - s.rho);
          const double delta = -(std::sqrt(sl[1][i] + s.epsilon) * gi / std::sqrt(acc_g + s.epsilon));
          sl[0][i] = static_cast<T>(acc_g);
          sl[1][i] = static_cast<T>(sl[1][i] * s.rho + delta * delta * (1 - s.rho));
          p[i] = static_cast<T>(p[i] + delta * s.lr);
        }
        break;
      case OptimizerKind::adam:
#pragma omp parallel for if (n > 32768)
        for (std::int64_t i = 0; i < n; ++i) {
          const double gi = g[i];
          const double m = sl[0][i] + (gi - sl[0][i]) * (1 - s.beta_1);
          const double v = sl[1][i] + (gi * gi - sl[1][i]) * (1 - s.beta_2);
          sl[0][i] = static_cast<T>(m);
          sl[1][i] = static_cast<T>(v);
          double second = v;
          if (s.amsgrad) {
            second = std::fmax(static_cast<double>(sl[2][i]), v);
            sl[2][i] = static_cast<T>(second);
          }
          p[i] = static_cast<T>(p[i] - m * s.lr / (std::sqrt(second) + s.epsilon));
        }
        break;
    }
  });
}

}  // namespace cortex::backend::ref
