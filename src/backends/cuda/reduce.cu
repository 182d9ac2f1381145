// Row reductions and (log-)softmax with its gradient on CUDA, over the last
// axis of an (M, K) matrix. A row goes to one warp when K is small (8 rows a
// block) and to a whole block otherwise; sums accumulate in double, as the
// reference does, so results match it to rounding. Reductions also take bf16
// (autocast's activations and their gradients), compared in float.
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "backends/cuda/cuda_common.h"
#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/device_math.cuh"
#include "cortex/backends/kernels.h"

namespace cortex::backend::cuda {
namespace {

constexpr int kWarp = 32;
constexpr int kBlockRow = 256;  // threads of a block that owns one row

// Candidate (value, index) of an arg-reduction: NaN wins, then the extreme, then the lower index.
template <typename T>
struct Arg {
  T value;
  std::int64_t index;
};

template <typename T>
__device__ bool better(const Arg<T>& c, const Arg<T>& b, bool maximum) {
  if (c.index < 0) return false;
  if (b.index < 0) return true;
  const bool cn = m_isnan(c.value), bn = m_isnan(b.value);
  if (cn || bn) return cn && (!bn || c.index < b.index);
  if (c.value == b.value) return c.index < b.index;
  return maximum ? c.value > b.value : c.value < b.value;
}

__device__ double shfl_down(double v, int delta) { return __shfl_down_sync(0xffffffffu, v, delta); }
__device__ float shfl_down(float v, int delta) { return __shfl_down_sync(0xffffffffu, v, delta); }
__device__ std::int64_t shfl_down(std::int64_t v, int delta) {
  return static_cast<std::int64_t>(__shfl_down_sync(0xffffffffu, static_cast<long long>(v), delta));
}

// Sum over the G threads of a row group (G = 32: one warp; G = 256: the block).
template <int G>
__device__ double group_sum(double v) {
  for (int d = kWarp / 2; d > 0; d /= 2) v += shfl_down(v, d);
  if constexpr (G > kWarp) {
    __shared__ double partial[G / kWarp];
    __shared__ double total;
    const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
    __syncthreads();  // partial may still be read by a previous call
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    if (threadIdx.x == 0) {
      double s = 0;
      for (int w = 0; w < G / kWarp; ++w) s += partial[w];
      total = s;
    }
    __syncthreads();
    return total;
  } else {
    return __shfl_sync(0xffffffffu, v, 0);
  }
}

template <int G, typename T>
__device__ Arg<T> group_arg(Arg<T> a, bool maximum) {
  for (int d = kWarp / 2; d > 0; d /= 2) {
    Arg<T> o{shfl_down(a.value, d), shfl_down(a.index, d)};
    if (better(o, a, maximum)) a = o;
  }
  if constexpr (G > kWarp) {
    __shared__ T pv[G / kWarp];
    __shared__ std::int64_t pi[G / kWarp];
    __shared__ Arg<T> result;
    const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
    __syncthreads();
    if (lane == 0) {
      pv[warp] = a.value;
      pi[warp] = a.index;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      Arg<T> b{pv[0], pi[0]};
      for (int w = 1; w < G / kWarp; ++w) {
        Arg<T> o{pv[w], pi[w]};
        if (better(o, b, maximum)) b = o;
      }
      result = b;
    }
    __syncthreads();
    return result;
  } else {
    return Arg<T>{__shfl_sync(0xffffffffu, a.value, 0),
                  static_cast<std::int64_t>(__shfl_sync(0xffffffffu, static_cast<long long>(a.index), 0))};
  }
}

// The row this thread works on, and its rank inside the row's group.
template <int G>
__device__ bool row_of(std::int64_t M, std::int64_t& m, int& t) {
  if constexpr (G == kWarp) {
    m = static_cast<std::int64_t>(blockIdx.x) * (blockDim.x / kWarp) + threadIdx.x / kWarp;
    t = threadIdx.x % kWarp;
  } else {
    m = blockIdx.x;
    t = threadIdx.x;
  }
  return m < M;
}

// All threads of a warp group must reach the shuffles, so rows past M compute on row 0 and skip the write.
// T: the stored type; the extremes are compared in C (float for bf16).
template <int G, typename T>
__global__ void reduce_kernel(ReduceOp op, const T* x, T* out, std::int64_t* arg_out, std::int64_t M,
                              std::int64_t K) {
  using C = compute_t<T>;
  std::int64_t m;
  int t;
  const bool live = row_of<G>(M, m, t);
  const T* row = x + (live ? m : 0) * K;
  if (op == ReduceOp::sum || op == ReduceOp::mean) {
    double s = 0;
    for (std::int64_t k = t; k < K; k += G) s += convert<double>(row[k]);
    s = group_sum<G>(s);
    if (live && t == 0) out[m] = convert<T>(op == ReduceOp::mean ? s / static_cast<double>(K) : s);
    return;
  }
  const bool maximum = op == ReduceOp::max || op == ReduceOp::argmax;
  Arg<C> a{C(0), -1};
  for (std::int64_t k = t; k < K; k += G) {
    Arg<C> c{convert<C>(row[k]), k};
    if (better(c, a, maximum)) a = c;
  }
  a = group_arg<G>(a, maximum);
  if (!live || t != 0) return;
  if (op == ReduceOp::argmax || op == ReduceOp::argmin)
    arg_out[m] = a.index;
  else
    out[m] = convert<T>(a.value);
}

template <int G, typename T>
__global__ void softmax_kernel(const T* x, T* out, std::int64_t M, std::int64_t K, bool log) {
  std::int64_t m;
  int t;
  const bool live = row_of<G>(M, m, t);
  const T* row = x + (live ? m : 0) * K;
  Arg<T> a{T(0), -1};
  for (std::int64_t k = t; k < K; k += G) {
    Arg<T> c{row[k], k};
    if (better(c, a, true)) a = c;
  }
  const T max = group_arg<G>(a, true).value;
  double s = 0;
  for (std::int64_t k = t; k < K; k += G) s += static_cast<double>(m_exp(row[k] - max));
  s = group_sum<G>(s);
  if (!live) return;
  const T log_sum = static_cast<T>(::log(s));
  const T inv = static_cast<T>(1.0 / s);
  for (std::int64_t k = t; k < K; k += G) {
    const T shifted = row[k] - max;
    out[m * K + k] = log ? shifted - log_sum : m_exp(shifted) * inv;
  }
}

template <int G, typename T>
__global__ void softmax_backward_kernel(const T* y, const T* dy, T* dx, std::int64_t M, std::int64_t K, bool log) {
  std::int64_t m;
  int t;
  const bool live = row_of<G>(M, m, t);
  const std::int64_t base = (live ? m : 0) * K;
  double dot = 0;
  for (std::int64_t k = t; k < K; k += G)
    dot += log ? static_cast<double>(dy[base + k]) : static_cast<double>(dy[base + k]) * static_cast<double>(y[base + k]);
  const T d = static_cast<T>(group_sum<G>(dot));
  if (!live) return;
  for (std::int64_t k = t; k < K; k += G) {
    const T yk = y[base + k], dyk = dy[base + k];
    dx[base + k] = log ? dyk - m_exp(yk) * d : yk * (dyk - d);
  }
}

// One row's softmax cross-entropy (contract in kernels.h): the row's max, its
// log-sum-exp, the loss sum_k t_k (lse - x_k) and, when grad is given,
// softmax(x) * sum_k t_k - t -- one read of the logits and targets per pass.
template <int G, typename T>
__global__ void softmax_cross_entropy_kernel(const T* x, const T* tg, T* loss, T* grad, std::int64_t M,
                                             std::int64_t K) {
  std::int64_t m;
  int t;
  const bool live = row_of<G>(M, m, t);
  const std::int64_t base = (live ? m : 0) * K;
  Arg<T> a{T(0), -1};
  for (std::int64_t k = t; k < K; k += G) {
    Arg<T> c{x[base + k], k};
    if (better(c, a, true)) a = c;
  }
  const T max = group_arg<G>(a, true).value;
  double s = 0;
  for (std::int64_t k = t; k < K; k += G) s += static_cast<double>(m_exp(x[base + k] - max));
  s = group_sum<G>(s);
  const T log_sum = static_cast<T>(::log(s));
  double row = 0, total = 0;
  for (std::int64_t k = t; k < K; k += G) {
    row += static_cast<double>(tg[base + k]) * static_cast<double>(log_sum - (x[base + k] - max));
    total += static_cast<double>(tg[base + k]);
  }
  row = group_sum<G>(row);
  total = group_sum<G>(total);
  if (!live) return;
  if (t == 0) loss[m] = static_cast<T>(row);
  if (grad == nullptr) return;
  const T scale = static_cast<T>(total);
  for (std::int64_t k = t; k < K; k += G)
    grad[base + k] = m_exp(x[base + k] - max - log_sum) * scale - tg[base + k];
}

struct RowLaunch {
  bool warp_per_row;
  unsigned blocks;
  unsigned threads;
};

RowLaunch row_launch(std::int64_t M, std::int64_t K) {
  if (K <= 1024) {
    const unsigned rows_per_block = kBlockRow / kWarp;
    return {true, static_cast<unsigned>((M + rows_per_block - 1) / rows_per_block), kBlockRow};
  }
  return {false, static_cast<unsigned>(M), kBlockRow};
}

void expect_matrix(const Tensor& t, const char* what, const char* name) {
  if (t.dim() != 2 || !t.is_contiguous())
    fail<ShapeError>(what, " on cuda expects ", name, " as a contiguous (M, K) matrix, got shape ",
                     shape_str(t.shape()), t.is_contiguous() ? "" : " (strided)");
}

template <typename T>
const T* cptr(const Tensor& t) {
  return first<const T>(t);
}

}  // namespace

void reduce(ReduceOp op, const Tensor& x, Tensor& out) {
  const std::string what = std::string("reduce ") + reduce_name(op);
  expect_matrix(x, what.c_str(), "x");
  const std::int64_t M = x.shape()[0], K = x.shape()[1];
  const bool arg = op == ReduceOp::argmax || op == ReduceOp::argmin;
  expect_same_dtype(out, arg ? DType::i64 : x.dtype(), what.c_str(), "out");
  if (K == 0 && op != ReduceOp::sum && op != ReduceOp::mean)
    fail<ValueError>("reduce ", reduce_name(op), " of an empty axis (x has shape ", shape_str(x.shape()), ")");
  if (M == 0) return;
  if (M > 0x7fffffff) fail("reduce on cuda handles up to 2^31 rows, got ", M);
  DeviceGuard guard(x.device());
  const RowLaunch l = row_launch(M, K);
  cudaStream_t s = stream(x.device());
  device_visit_float_or_bf16(x.dtype(), what.c_str(), [&](auto tag) {
    using T = decltype(tag);
    T* o = arg ? nullptr : first<T>(out);
    std::int64_t* ao = arg ? first<std::int64_t>(out) : nullptr;
    if (l.warp_per_row)
      reduce_kernel<kWarp, T><<<l.blocks, l.threads, 0, s>>>(op, cptr<T>(x), o, ao, M, K);
    else
      reduce_kernel<kBlockRow, T><<<l.blocks, l.threads, 0, s>>>(op, cptr<T>(x), o, ao, M, K);
  });
  check_launch(what.c_str());
}

void softmax(const Tensor& x, Tensor& out, bool log) {
  const char* what = log ? "log_softmax" : "softmax";
  expect_matrix(x, what, "x");
  expect_matrix(out, what, "out");
  expect_same_dtype(out, x.dtype(), what, "out");
  const std::int64_t M = x.shape()[0], K = x.shape()[1];
  if (M == 0 || K == 0) return;
  DeviceGuard guard(x.device());
  const RowLaunch l = row_launch(M, K);
  cudaStream_t s = stream(x.device());
  device_visit_float(x.dtype(), what, [&](auto tag) {
    using T = decltype(tag);
    if (l.warp_per_row)
      softmax_kernel<kWarp, T><<<l.blocks, l.threads, 0, s>>>(cptr<T>(x), first<T>(out), M, K, log);
    else
      softmax_kernel<kBlockRow, T><<<l.blocks, l.threads, 0, s>>>(cptr<T>(x), first<T>(out), M, K, log);
  });
  check_launch(what);
}

void softmax_backward(const Tensor& y, const Tensor& dy, Tensor& dx, bool log) {
  const char* what = log ? "log_softmax_backward" : "softmax_backward";
  expect_matrix(y, what, "y");
  expect_matrix(dy, what, "dy");
  expect_matrix(dx, what, "dx");
  const std::int64_t M = y.shape()[0], K = y.shape()[1];
  if (M == 0 || K == 0) return;
  DeviceGuard guard(y.device());
  const RowLaunch l = row_launch(M, K);
  cudaStream_t s = stream(y.device());
  device_visit_float(y.dtype(), what, [&](auto tag) {
    using T = decltype(tag);
    if (l.warp_per_row)
      softmax_backward_kernel<kWarp, T><<<l.blocks, l.threads, 0, s>>>(cptr<T>(y), cptr<T>(dy), first<T>(dx), M, K, log);
    else
      softmax_backward_kernel<kBlockRow, T><<<l.blocks, l.threads, 0, s>>>(cptr<T>(y), cptr<T>(dy), first<T>(dx), M, K,
                                                                          log);
  });
  check_launch(what);
}

void softmax_cross_entropy(const Tensor& logits, const Tensor& targets, Tensor& loss, Tensor* grad) {
  const char* what = "softmax_cross_entropy";
  expect_matrix(logits, what, "logits");
  expect_matrix(targets, what, "targets");
  const std::int64_t M = logits.shape()[0], K = logits.shape()[1];
  if (targets.shape() != logits.shape() || loss.shape() != Shape{M} || !loss.is_contiguous() ||
      (grad != nullptr && (grad->shape() != logits.shape() || !grad->is_contiguous())))
    fail<ShapeError>(what, " on cuda expects targets and grad shaped like the logits ", shape_str(logits.shape()),
                     " and a loss of shape [", M, "], got targets ", shape_str(targets.shape()), ", loss ",
                     shape_str(loss.shape()));
  expect_same_dtype(targets, logits.dtype(), what, "targets");
  expect_same_dtype(loss, logits.dtype(), what, "loss");
  if (grad != nullptr) expect_same_dtype(*grad, logits.dtype(), what, "grad");
  if (M == 0) return;
  if (M > 0x7fffffff) fail(what, " on cuda handles up to 2^31 rows, got ", M);
  if (K == 0) return fill(loss, 0.0);
  DeviceGuard guard(logits.device());
  const RowLaunch l = row_launch(M, K);
  cudaStream_t s = stream(logits.device());
  device_visit_float(logits.dtype(), what, [&](auto tag) {
    using T = decltype(tag);
    T* g = grad != nullptr ? first<T>(*grad) : nullptr;
    if (l.warp_per_row)
      softmax_cross_entropy_kernel<kWarp, T><<<l.blocks, l.threads, 0, s>>>(cptr<T>(logits), cptr<T>(targets),
                                                                            first<T>(loss), g, M, K);
    else
      softmax_cross_entropy_kernel<kBlockRow, T><<<l.blocks, l.threads, 0, s>>>(cptr<T>(logits), cptr<T>(targets),
                                                                                first<T>(loss), g, M, K);
  });
  check_launch(what);
}

}  // namespace cortex::backend::cuda
