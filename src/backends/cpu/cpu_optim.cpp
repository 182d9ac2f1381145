// cpu fused optimiser updates on f32: one threaded, vectorised pass over the
// parameter, its gradient and its slots, in float arithmetic as PyTorch and
// TensorFlow do (this file is built with -fno-math-errno, so sqrt vectorises).
// Other dtypes, strided tensors and mismatched operands go to the reference
// (double arithmetic), which also names what is wrong.
#include <cmath>
#include <cstdint>

#include "backends/cpu/cpu_kernels.h"

namespace cortex::backend::cpu {
namespace {

bool fits(const Tensor& t, const Tensor& param) {
  return t.dtype() == DType::f32 && t.is_contiguous() && t.shape() == param.shape();
}

}  // namespace

void optimizer_step(const OptimizerStep& s, Tensor& param, const Tensor& grad, Tensor* slots) {
  const int nslots = slot_count(s);
  bool fast = fits(param, param) && fits(grad, param);
  for (int k = 0; k < nslots && fast; ++k) fast = fits(slots[k], param);
  if (!fast) return ref_kernel(&Kernels::optimizer_step, "optimizer_step")(s, param, grad, slots);
  float* p = param.data<float>();
  const float* g = grad.data<float>();
  float* sl[3] = {nullptr, nullptr, nullptr};
  for (int k = 0; k < nslots; ++k) sl[k] = slots[k].data<float>();
  const std::int64_t n = param.numel();
  const auto lr = static_cast<float>(s.lr), eps = static_cast<float>(s.epsilon);
  switch (s.kind) {
    case OptimizerKind::sgd: {
      const auto mom = static_cast<float>(s.momentum);
      if (nslots == 0) {
#pragma omp parallel for simd if (n > 32768)
        for (std::int64_t i = 0; i < n; ++i) p[i] -= g[i] * lr;
      } else {
        float* m = sl[0];
        const bool nesterov = s.nesterov;
#pragma omp parallel for simd if (n > 32768)
        for (std::int64_t i = 0; i < n; ++i) {
          const float mi = m[i] * mom - g[i] * lr;
          m[i] = mi;
          p[i] += nesterov ? mi * mom - g[i] * lr : mi;
        }
      }
      break;
    }
    case OptimizerKind::adadelta: {
      // 1 - rho in double, then rounded, as the reference's constant is
      const auto rho = static_cast<float>(s.rho), keep = static_cast<float>(1 - s.rho);
      float *acc_g = sl[0], *acc_d = sl[1];
#pragma omp parallel for simd if (n > 32768)
      for (std::int64_t i = 0; i < n; ++i) {
        const float gi = g[i], a = acc_g[i] * rho + gi * gi * keep;
        const float delta = -(std::sqrt(acc_d[i] + eps) * gi / std::sqrt(a + eps));
        acc_g[i] = a;
        acc_d[i] = acc_d[i] * rho + delta * delta * keep;
        p[i] += delta * lr;
      }
      break;
    }
    case OptimizerKind::adam: {
      const auto c1 = static_cast<float>(1 - s.beta_1), c2 = static_cast<float>(1 - s.beta_2);
      float *m = sl[0], *v = sl[1], *vmax = sl[2];
      const bool amsgrad = s.amsgrad;
#pragma omp parallel for simd if (n > 32768)
      for (std::int64_t i = 0; i < n; ++i) {
        const float gi = g[i];
        const float mi = m[i] + (gi - m[i]) * c1, vi = v[i] + (gi * gi - v[i]) * c2;
        m[i] = mi;
        v[i] = vi;
        float second = vi;
        if (amsgrad) {
          second = std::fmax(vmax[i], vi);
          vmax[i] = second;
        }
        p[i] -= mi * lr / (std::sqrt(second) + eps);
      }
      break;
    }
  }
}

}  // namespace cortex::backend::cpu
