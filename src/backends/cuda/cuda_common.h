// Helpers shared by the CUDA backend's sources: CUDA status codes turned into
// cortex errors, the device's stream, launch sizes, and the geometry of
// strided operands passed to kernels by value.
#pragma once

#include <cuda_runtime_api.h>

#include <algorithm>
#include <array>
#include <cstdint>

#include "backends/common/strided.h"
#include "cortex/core/device.h"
#include "cortex/core/error.h"
#include "cortex/core/tensor.h"

namespace cortex::backend::cuda {

// Throws DeviceError naming the failed call and CUDA's own message.
inline void check(cudaError_t status, const char* what) {
  if (status == cudaSuccess) return;
  cudaGetLastError();  // clear a non-sticky error so the next call starts clean
  fail<DeviceError>(what, " failed: ", cudaGetErrorName(status), ": ", cudaGetErrorString(status));
}

// After a kernel launch: a bad configuration shows up here, naming the kernel.
inline void check_launch(const char* kernel) { check(cudaGetLastError(), kernel); }

// Makes `device` current while alive (no-op for CPU devices).
class DeviceGuard {
 public:
  explicit DeviceGuard(Device device) {
    if (!device.is_cuda()) return;
    check(cudaGetDevice(&previous_), "cudaGetDevice");
    if (previous_ != device.index) {
      check(cudaSetDevice(device.index), "cudaSetDevice");
      restore_ = true;
    }
  }
  ~DeviceGuard() {
    if (restore_) cudaSetDevice(previous_);
  }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = 0;
  bool restore_ = false;
};

// The one stream of each device: every kernel, copy, allocation and library
// call of the backend is ordered on it (cuda_runtime.cpp creates it lazily).
cudaStream_t stream(Device device);

constexpr int kThreads = 256;

inline unsigned blocks_for(std::int64_t n, int threads = kThreads) {
  const std::int64_t b = (n + threads - 1) / threads;
  return static_cast<unsigned>(std::clamp<std::int64_t>(b, 1, 65535 * 8));
}

// Address of the tensor's first element (storage base + offset); never dereferenced on the host.
template <typename T>
T* first(const Tensor& t) {
  return static_cast<T*>(t.storage()->data()) + t.offset();
}

// The same as an untyped byte address, as cuBLAS, cuDNN and the copies take it.
inline void* device_address(const Tensor& t) {
  return static_cast<char*>(t.storage()->data()) + t.offset() * static_cast<std::int64_t>(element_size(t.dtype()));
}

constexpr int kMaxRank = 8;

// N operands of one shape, after merging axes that are contiguous in all of
// them: element i of the (row-major) shape lives at base[k] + sum index_d * strides[k][d].
template <std::size_t N>
struct Indexer {
  int rank = 0;
  bool small = false;  // fewer than 2^31 elements: indices decompose in 32 bits
  std::int64_t shape[kMaxRank] = {};
  std::int64_t strides[N][kMaxRank] = {};
  std::int64_t base[N] = {};

#ifdef __CUDACC__
  // 64-bit division costs dozens of instructions on a GPU: a dense operand
  // (rank 1 after merging) needs none, and indices below 2^31 divide in 32 bits.
  __device__ void offsets(std::int64_t i, std::int64_t (&off)[N]) const {
    if (rank == 1) {
#pragma unroll
      for (std::size_t k = 0; k < N; ++k) off[k] = base[k] + i * strides[k][0];
      return;
    }
#pragma unroll
    for (std::size_t k = 0; k < N; ++k) off[k] = base[k];
    if (small) {
      auto j = static_cast<std::uint32_t>(i);
      for (int d = rank - 1; d >= 0; --d) {
        const auto s = static_cast<std::uint32_t>(shape[d]);
        const std::uint32_t idx = j % s;
        j /= s;
#pragma unroll
        for (std::size_t k = 0; k < N; ++k) off[k] += static_cast<std::int64_t>(idx) * strides[k][d];
      }
      return;
    }
    for (int d = rank - 1; d >= 0; --d) {
      const std::int64_t idx = i % shape[d];
      i /= shape[d];
#pragma unroll
      for (std::size_t k = 0; k < N; ++k) off[k] += idx * strides[k][d];
    }
  }
#endif
};

// Builds the indexer for operands that all have `shape`; offsets are in
// elements from each storage's base pointer.
template <std::size_t N>
Indexer<N> make_indexer(const Shape& shape, const std::array<const Tensor*, N>& ops, const char* what) {
  const StridedLoop<N> loop = make_loop<N>(shape, ops);
  if (loop.shape.size() > static_cast<std::size_t>(kMaxRank))
    fail(what, " on cuda handles up to ", kMaxRank, " non-mergeable axes, got shape ", shape_str(shape));
  Indexer<N> ix;
  ix.rank = static_cast<int>(loop.shape.size());
  ix.small = numel(shape) < 0x7fffffff;
  for (int d = 0; d < ix.rank; ++d) {
    ix.shape[d] = loop.shape[d];
    for (std::size_t k = 0; k < N; ++k) ix.strides[k][d] = loop.strides[k][d];
  }
  for (std::size_t k = 0; k < N; ++k) ix.base[k] = loop.base[k];
  return ix;
}

// Fails unless t lives on a CUDA device (a kernel got a host tensor).
inline void expect_cuda(const Tensor& t, const char* what, const char* name) {
  if (!t.device().is_cuda())
    fail<DeviceError>(what, " on cuda expects ", name, " on a CUDA device, got one on ", t.device().str());
}

inline void expect_same_dtype(const Tensor& t, DType dtype, const char* what, const char* name) {
  if (t.dtype() != dtype)
    fail<DTypeError>(what, " on cuda expects ", name, " of dtype ", dtype_name(dtype), ", got ",
                     dtype_name(t.dtype()));
}

}  // namespace cortex::backend::cuda
