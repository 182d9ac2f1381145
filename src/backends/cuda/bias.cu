// Per-channel kernels on CUDA: adding a per-column bias to the rows of a
// matrix (matmul and conv), the column sums that are its gradient, and the
// batch variance from cuDNN's saved inverse standard deviation (batch norm).
#include <cuda_runtime.h>

#include <cstdint>
#include <type_traits>

#include "backends/cuda/cuda_common.h"
#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/device_math.cuh"

namespace cortex::backend::cuda {
namespace {

// Index: std::uint32_t when n < 2^31 (a 64-bit modulo costs dozens of instructions).
template <typename T, typename Index>
__global__ void add_bias_kernel(T* out, const T* bias, Index n, Index cols) {
  using Acc = compute_t<T>;  // bf16 adds in float
  for (Index i = static_cast<Index>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<Index>(blockDim.x) * gridDim.x)
    out[i] = convert<T>(convert<Acc>(out[i]) + convert<Acc>(bias[i % cols]));
}

constexpr int kCols = 32, kRows = 8;

// Stage 1: block (kCols x kRows) sums rows [y * chunk, (y + 1) * chunk) of a column tile into partial[y][col].
template <typename T>
__global__ void column_partial_kernel(const T* x, double* partial, std::int64_t rows, std::int64_t cols,
                                      std::int64_t chunk) {
  __shared__ double acc[kRows][kCols];
  const std::int64_t col = static_cast<std::int64_t>(blockIdx.x) * kCols + threadIdx.x;
  const std::int64_t r0 = static_cast<std::int64_t>(blockIdx.y) * chunk;
  const std::int64_t r1 = min(rows, r0 + chunk);
  double s = 0;
  if (col < cols)
    for (std::int64_t r = r0 + threadIdx.y; r < r1; r += kRows) s += convert<double>(x[r * cols + col]);
  acc[threadIdx.y][threadIdx.x] = s;
  __syncthreads();
  if (threadIdx.y == 0 && col < cols) {
    for (int k = 1; k < kRows; ++k) s += acc[k][threadIdx.x];
    partial[static_cast<std::int64_t>(blockIdx.y) * cols + col] = s;
  }
}

// Stage 2: block `col` sums its column of partial over the chunks (a serial loop
// per column would leave the GPU nearly idle for hundreds of chunks).
constexpr int kFinalThreads = 128;

template <typename T>
__global__ void column_final_kernel(const double* partial, T* out, std::int64_t chunks, std::int64_t cols) {
  __shared__ double acc[kFinalThreads];
  const std::int64_t col = blockIdx.x;
  double s = 0;
  for (std::int64_t c = threadIdx.x; c < chunks; c += kFinalThreads) s += partial[c * cols + col];
  acc[threadIdx.x] = s;
  __syncthreads();
  for (int half = kFinalThreads / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) acc[threadIdx.x] += acc[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) out[col] = convert<T>(acc[0]);
}

template <typename T>
__global__ void variance_kernel(const T* invstd, T* var, std::int64_t n, double eps) {
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(blockDim.x) * gridDim.x) {
    const double s = static_cast<double>(invstd[i]);
    var[i] = static_cast<T>(fmax(0.0, 1.0 / (s * s) - eps));  // a constant channel rounds to about +-1e-10
  }
}

}  // namespace

void variance_from_invstd(const Tensor& invstd, double eps, Tensor& var) {
  const std::int64_t n = var.numel();
  if (n == 0) return;
  DeviceGuard guard(var.device());
  device_visit_float(var.dtype(), "batch_norm variance", [&](auto tag) {
    using T = decltype(tag);
    variance_kernel<T><<<blocks_for(n), kThreads, 0, stream(var.device())>>>(first<const T>(invstd), first<T>(var), n,
                                                                               eps);
  });
  check_launch("batch_norm variance");
}

void add_bias(Tensor& out, const Tensor& bias) {
  const std::int64_t n = out.numel(), cols = bias.numel();
  if (n == 0) return;
  if (!out.is_contiguous() || !bias.is_contiguous() || out.shape().back() != cols)
    fail<ShapeError>("bias on cuda expects a contiguous output whose last axis is the bias length ", cols,
                     ", got shape ", shape_str(out.shape()));
  DeviceGuard guard(out.device());
  device_visit_float_or_bf16(out.dtype(), "bias", [&](auto tag) {
    using T = decltype(tag);
    if (n < 0x7fffffff)
      add_bias_kernel<T, std::uint32_t><<<blocks_for(n), kThreads, 0, stream(out.device())>>>(
          first<T>(out), first<const T>(bias), static_cast<std::uint32_t>(n), static_cast<std::uint32_t>(cols));
    else
      add_bias_kernel<T, std::int64_t><<<blocks_for(n), kThreads, 0, stream(out.device())>>>(
          first<T>(out), first<const T>(bias), n, cols);
  });
  check_launch("bias");
}

void sum_columns(const Tensor& x, Tensor& out) {
  const std::int64_t cols = out.numel();
  if (cols == 0) return;
  if (!x.is_contiguous() || x.numel() % cols != 0 || (x.dim() > 0 && x.shape().back() != cols))
    fail<ShapeError>("column sum on cuda expects a contiguous input whose last axis has ", cols, " elements, got ",
                     shape_str(x.shape()));
  const std::int64_t rows = x.numel() / cols;
  DeviceGuard guard(out.device());
  const std::int64_t chunk = std::max<std::int64_t>(kRows * 16, (rows + 511) / 512);
  const std::int64_t chunks = std::max<std::int64_t>(1, (rows + chunk - 1) / chunk);
  Tensor partial = Tensor::empty({chunks, cols}, DType::f64, out.device());
  cudaStream_t s = stream(out.device());
  device_visit_float_or_bf16(x.dtype(), "column sum", [&](auto tag) {
    using T = decltype(tag);
    const dim3 grid(static_cast<unsigned>((cols + kCols - 1) / kCols), static_cast<unsigned>(chunks));
    column_partial_kernel<T><<<grid, dim3(kCols, kRows), 0, s>>>(first<const T>(x), first<double>(partial), rows, cols,
                                                                chunk);
    column_final_kernel<T><<<static_cast<unsigned>(cols), kFinalThreads, 0, s>>>(first<const double>(partial),
                                                                                  first<T>(out), chunks, cols);
  });
  check_launch("column sum");
}

}  // namespace cortex::backend::cuda
