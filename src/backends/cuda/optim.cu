// Fused optimiser updates on CUDA: one kernel reads the gradient and the
// slots once and writes the parameter and slots once (the composed update in
// src/optim/ makes a dozen passes); the group form updates a whole step's
// parameters in one launch. Arithmetic per element in double, like
// the reference kernel.
#include <cuda_runtime.h>

#include <cstdint>

#include "backends/cuda/cuda_common.h"
#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/device_math.cuh"

namespace cortex::backend::cuda {
namespace {

// One element's update; s0..s2 are the slots (null when the step has fewer).
template <typename T>
__device__ void update_element(const OptimizerStep& s, T* p, const T* g, T* s0, T* s1, T* s2, std::int64_t i) {
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

template <typename T>
__global__ void optimizer_kernel(OptimizerStep s, T* p, const T* g, T* s0, T* s1, T* s2, std::int64_t n) {
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(blockDim.x) * gridDim.x)
    update_element(s, p, g, s0, s1, s2, i);
}

// A group's parameters, passed by value (kernel arguments, no upload): block b
// updates elements [(b - first_block) * kChunk, + kChunk) of the tensor whose
// first_block range holds b.
constexpr int kGroupMax = 24;
constexpr std::int64_t kChunk = 8 * kThreads;

struct GroupEntry {
  void* p;
  const void* g;
  void* s[3];
  std::int64_t n;
  std::int64_t first_block;
};

struct GroupArgs {
  GroupEntry e[kGroupMax];
  int count;
};

template <typename T>
__global__ void optimizer_group_kernel(OptimizerStep s, GroupArgs a) {
  int t = 0;
  while (t + 1 < a.count && static_cast<std::int64_t>(blockIdx.x) >= a.e[t + 1].first_block) ++t;
  const GroupEntry& e = a.e[t];
  const std::int64_t begin = (static_cast<std::int64_t>(blockIdx.x) - e.first_block) * kChunk;
  const std::int64_t end = min(e.n, begin + kChunk);
  for (std::int64_t i = begin + threadIdx.x; i < end; i += blockDim.x)
    update_element(s, static_cast<T*>(e.p), static_cast<const T*>(e.g), static_cast<T*>(e.s[0]),
                   static_cast<T*>(e.s[1]), static_cast<T*>(e.s[2]), i);
}

// Each tensor of one parameter's update: contiguous, the parameter's shape, dtype and device.
void expect_operands(const OptimizerStep& step, const Tensor& param, const Tensor& grad, const Tensor* slots) {
  auto expect = [&](const Tensor& t, const char* name) {
    if (t.shape() != param.shape() || t.dtype() != param.dtype() || !t.is_contiguous() || t.device() != param.device())
      fail<ShapeError>("optimizer_step on cuda expects ", name, " contiguous, ", dtype_name(param.dtype()), " ",
                       shape_str(param.shape()), " on ", param.device().str(), ", got ", dtype_name(t.dtype()), " ",
                       shape_str(t.shape()), " on ", t.device().str());
  };
  expect(param, "param");
  expect(grad, "grad");
  for (int k = 0; k < slot_count(step); ++k) expect(slots[k], "every slot");
}

}  // namespace

void optimizer_step(const OptimizerStep& step, Tensor& param, const Tensor& grad, Tensor* slots) {
  expect_operands(step, param, grad, slots);
  const int nslots = slot_count(step);
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

void optimizer_step_group(const OptimizerStep& step, Tensor* params, const Tensor* grads, Tensor* const* slots,
                          std::int64_t count) {
  if (count == 0) return;
  const Device dev = params[0].device();
  const DType dtype = params[0].dtype();
  for (std::int64_t i = 0; i < count; ++i) {
    expect_operands(step, params[i], grads[i], slots[i]);
    if (params[i].device() != dev || params[i].dtype() != dtype)
      fail<ValueError>("optimizer_step_group on cuda expects one device and dtype, got ", dev.str(), " ",
                       dtype_name(dtype), " and ", params[i].device().str(), " ", dtype_name(params[i].dtype()));
  }
  const int nslots = slot_count(step);
  DeviceGuard guard(dev);
  device_visit_float(dtype, "optimizer_step_group", [&](auto tag) {
    using T = decltype(tag);
    GroupArgs a{};
    std::int64_t blocks = 0;
    auto launch = [&] {
      if (a.count > 0 && blocks > 0)
        optimizer_group_kernel<T><<<static_cast<unsigned>(blocks), kThreads, 0, stream(dev)>>>(step, a);
      a = GroupArgs{};
      blocks = 0;
    };
    for (std::int64_t i = 0; i < count; ++i) {
      const std::int64_t n = params[i].numel();
      if (n == 0) continue;
      const std::int64_t need = (n + kChunk - 1) / kChunk;
      if (a.count == kGroupMax || blocks + need > 0x7fffffff) launch();
      GroupEntry& e = a.e[a.count++];
      e.p = first<T>(params[i]);
      e.g = first<const T>(grads[i]);
      for (int k = 0; k < 3; ++k) e.s[k] = k < nslots ? static_cast<void*>(first<T>(slots[i][k])) : nullptr;
      e.n = n;
      e.first_block = blocks;
      blocks += need;
    }
    launch();
  });
  check_launch("optimizer_step_group");
}

}  // namespace cortex::backend::cuda
