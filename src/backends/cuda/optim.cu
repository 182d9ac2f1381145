// Fused optimiser updates on CUDA: one kernel reads the gradient and the
// slots once and writes the parameter and slots once (the composed update in
// src/optim/ makes a dozen passes). Arithmetic per element in double, like
// the reference kernel.
#include <cuda_runtime.h>

#include <cstdint>

#include "backends/cuda/cuda_common.h"
#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/device_math.cuh"

namespace cortex::backend::cuda {
namespace {

template <typename T>
__global__ void optimizer_kernel(OptimizerStep s, T* p, const T* g, T* s0, T* s1, T* s2, std::int64_t n) {
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(blockDim.x) * gridDim.x) {
    const double gi = static_cast<double>(g[i]);
    switch (s.kind) {
      case OptimizerKind::sgd: {
        if (s0 == nullptr) {
          p[i] = static_cast<T>(p[i] - gi * s.lr);
          break;
        }
        const double m = s0[i] * s.momentum - gi * s.lr;
        s0[i] = static_cast<T>(m);
        p[i] = static_cast<T>(p[i] + (s.nesterov ? m * s.momentum - gi * s.lr : m));
        break;
      }
      case OptimizerKind::adadelta: {
        const double acc_g = s0[i] * s.rho + gi * gi * (1 - s.rho);
        const double delta = -(sqrt(s1[i] + s.epsilon) * gi / sqrt(acc_g + s.epsilon));
        s0[i] = static_cast<T>(acc_g);
        s1[i] = static_cast<T>(s1[i] * s.rho + delta * delta * (1 - s.rho));
        p[i] = static_cast<T>(p[i] + delta * s.lr);
        break;
      }
      case OptimizerKind::adam: {
        const double m = s0[i] + (gi - s0[i]) * (1 - s.beta_1);
        const double v = s1[i] + (gi * gi - s1[i]) * (1 - s.beta_2);
        s0[i] = static_cast<T>(m);
        s1[i] = static_cast<T>(v);
        double second = v;
        if (s2 != nullptr) {
          second = fmax(static_cast<double>(s2[i]), v);
          s2[i] = static_cast<T>(second);
        }
        p[i] = static_cast<T>(p[i] - m * s.lr / (sqrt(second) + s.epsilon));
        break;
      }
    }
  }
}

}  // namespace

void optimizer_step(const OptimizerStep& step, Tensor& param, const Tensor& grad, Tensor* slots) {
  const int nslots = slot_count(step);
  auto expect = [&](const Tensor& t, const char* name) {
    if (t.shape() != param.shape() || t.dtype() != param.dtype() || !t.is_contiguous() || t.device() != param.device())
      fail<ShapeError>("optimizer_step on cuda expects ", name, " contiguous, ", dtype_name(param.dtype()), " ",
                       shape_str(param.shape()), " on ", param.device().str(), ", got ", dtype_name(t.dtype()), " ",
                       shape_str(t.shape()), " on ", t.device().str());
  };
  expect(param, "param");
  expect(grad, "grad");
  for (int k = 0; k < nslots; ++k) expect(slots[k], "every slot");
  const std::int64_t n = param.numel();
  if (n == 0) return;
  DeviceGuard guard(param.device());
  device_visit_float(param.dtype(), "optimizer_step", [&](auto tag) {
    using T = decltype(tag);
    T* s[3] = {nullptr, nullptr, nullptr};
    for (int k = 0; k < nslots; ++k) s[k] = first<T>(slots[k]);
    optimizer_kernel<T><<<blocks_for(n), kThreads, 0, stream(param.device())>>>(step, first<T>(param), first<const T>(grad),
                                                                                s[0], s[1], s[2], n);
  });
  check_launch("optimizer_step");
}

}  // namespace cortex::backend::cuda
