// Reference kernels for dropout masks (Philox Bernoulli draws) and the fused
// optimiser updates; each element's arithmetic is done in double.
#include <cmath>
#include <cstdint>
#include <vector>

#include "backends/ref/ref_common.h"
#include "backends/ref/ref_kernels.h"
#include "cortex/core/generator.h"

namespace cortex::backend::ref {

// out: contiguous f32/f64. Element i takes word i % 4 of block first_block + i / 4,
// as cortex::bernoulli does on the host.
void bernoulli(Tensor& out, double p, std::uint64_t seed, std::uint64_t first_block) {
  if (!out.is_contiguous()) fail<ValueError>("ref bernoulli expects a contiguous output");
  const Generator gen(seed);
  const std::int64_t n = out.numel();
  visit_float(out.dtype(), "bernoulli", [&](auto tag) {
    using T = decltype(tag);
    T* o = storage_ptr<T>(out) + out.offset();
#pragma omp parallel for if (n > 65536)
    for (std::int64_t b = 0; b < (n + 3) / 4; ++b) {
      const auto words = gen.block(first_block + static_cast<std::uint64_t>(b));
      for (std::int64_t k = 0; k < 4 && b * 4 + k < n; ++k) o[b * 4 + k] = uniform01(words[k]) < p ? T(1) : T(0);
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

// param, grad, slots: contiguous, one shape and float dtype.
void optimizer_step(const OptimizerStep& s, Tensor& param, const Tensor& grad, Tensor* slots) {
  const int nslots = s.kind == OptimizerKind::sgd ? (s.momentum != 0 ? 1 : 0)
                     : s.kind == OptimizerKind::adadelta ? 2
                                                         : (s.amsgrad ? 3 : 2);
  expect_shape(grad, param.shape(), "optimizer_step", "grad");
  expect_dtype(grad, param.dtype(), "optimizer_step", "grad");
  for (int k = 0; k < nslots; ++k) {
    expect_shape(slots[k], param.shape(), "optimizer_step", "slot");
    expect_dtype(slots[k], param.dtype(), "optimizer_step", "slot");
  }
  visit_float(param.dtype(), "optimizer_step", [&](auto tag) {
    using T = decltype(tag);
    const View<T, 1> p(flat(param), "optimizer_step", "param");
    const View<const T, 1> g(flat(grad), "optimizer_step", "grad");
    std::vector<View<T, 1>> sl;
    for (int k = 0; k < nslots; ++k) sl.emplace_back(flat(slots[k]), "optimizer_step", "slot");
    for (std::int64_t i = 0; i < p.size(0); ++i) {
      const double gi = g(i);
      switch (s.kind) {
        case OptimizerKind::sgd: {
          if (nslots == 0) {
            p(i) = static_cast<T>(p(i) - gi * s.lr);
            break;
          }
          const double m = sl[0](i) * s.momentum - gi * s.lr;
          sl[0](i) = static_cast<T>(m);
          p(i) = static_cast<T>(p(i) + (s.nesterov ? m * s.momentum - gi * s.lr : m));
          break;
        }
        case OptimizerKind::adadelta: {
          const double acc_g = sl[0](i) * s.rho + gi * gi * (1 - s.rho);
          const double delta = -(std::sqrt(sl[1](i) + s.epsilon) * gi / std::sqrt(acc_g + s.epsilon));
          sl[0](i) = static_cast<T>(acc_g);
          sl[1](i) = static_cast<T>(sl[1](i) * s.rho + delta * delta * (1 - s.rho));
          p(i) = static_cast<T>(p(i) + delta * s.lr);
          break;
        }
        case OptimizerKind::adam: {
          const double m = sl[0](i) + (gi - sl[0](i)) * (1 - s.beta_1);
          const double v = sl[1](i) + (gi * gi - sl[1](i)) * (1 - s.beta_2);
          sl[0](i) = static_cast<T>(m);
          sl[1](i) = static_cast<T>(v);
          double second = v;
          if (s.amsgrad) {
            second = std::fmax(static_cast<double>(sl[2](i)), v);
            sl[2](i) = static_cast<T>(second);
          }
          p(i) = static_cast<T>(p(i) - m * s.lr / (std::sqrt(second) + s.epsilon));
          break;
        }
      }
    }
  });
}

}  // namespace cortex::backend::ref
