// Fill on CUDA: one grid-stride kernel per element type, with a fast path for
// contiguous tensors and an index-decoding path for strided views.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "backends/cuda/cuda_common.h"
#include "backends/cuda/cuda_kernels.h"

namespace cortex::backend::cuda {
namespace {

constexpr int kMaxRank = 8;
constexpr int kThreads = 256;

// A view's geometry, passed to the kernel by value.
struct Geometry {
  int rank = 0;
  std::int64_t shape[kMaxRank] = {};
  std::int64_t strides[kMaxRank] = {};
};

template <typename T>
__global__ void fill_contiguous(T* out, std::int64_t n, T value) {
  const std::int64_t step = static_cast<std::int64_t>(blockDim.x) * gridDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step)
    out[i] = value;
}

// out: the storage base plus the view's offset; element i of the view (row-major)
// lives at sum_d index_d * strides[d].
template <typename T>
__global__ void fill_strided(T* out, std::int64_t n, Geometry g, T value) {
  const std::int64_t step = static_cast<std::int64_t>(blockDim.x) * gridDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    std::int64_t rest = i;
    std::int64_t offset = 0;
    for (int d = g.rank - 1; d >= 0; --d) {
      offset += (rest % g.shape[d]) * g.strides[d];
      rest /= g.shape[d];
    }
    out[offset] = value;
  }
}

// T is the storage type: bf16 is filled through its 16-bit pattern.
template <typename T>
void launch(Tensor& out, T value) {
  const std::int64_t n = out.numel();
  if (n == 0) return;
  DeviceGuard guard(out.device());
  T* base = static_cast<T*>(out.storage()->data()) + out.offset();
  const auto blocks = static_cast<unsigned>(std::min<std::int64_t>((n + kThreads - 1) / kThreads, 65535));
  if (out.is_contiguous()) {
    fill_contiguous<T><<<blocks, kThreads>>>(base, n, value);
  } else {
    if (out.dim() > kMaxRank)
      fail("fill on cuda supports strided tensors of rank up to ", kMaxRank, ", got shape ",
           shape_str(out.shape()));
    Geometry g;
    g.rank = static_cast<int>(out.dim());
    for (int d = 0; d < g.rank; ++d) {
      g.shape[d] = out.shape()[d];
      g.strides[d] = out.strides()[d];
    }
    fill_strided<T><<<blocks, kThreads>>>(base, n, g, value);
  }
  check(cudaGetLastError(), "fill kernel launch");
}

}  // namespace

void fill(Tensor& out, double value) {
  switch (out.dtype()) {
    case DType::f32: return launch<float>(out, static_cast<float>(value));
    case DType::f64: return launch<double>(out, value);
    case DType::bf16: return launch<std::uint16_t>(out, bf16(static_cast<float>(value)).bits);
    case DType::i32: return launch<std::int32_t>(out, static_cast<std::int32_t>(value));
    case DType::i64: return launch<std::int64_t>(out, static_cast<std::int64_t>(value));
    case DType::u8: return launch<std::uint8_t>(out, static_cast<std::uint8_t>(value));
    case DType::boolean: return launch<bool>(out, value != 0.0);
  }
  fail<DTypeError>("fill on cuda got an unknown dtype");
}

}  // namespace cortex::backend::cuda
