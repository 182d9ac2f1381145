// cpu row reductions and (log-)softmax with its gradient over the last axis of
// an (M, K) matrix, as OpenMP loops. Sums accumulate in double, block by block
// in a fixed order, so a result does not depend on the thread count.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/cpu_loops.h"

namespace cortex::backend::cpu {
namespace {

constexpr std::int64_t kBlock = 1 << 13;  // elements per partial sum

template <typename T>
double block_sum(const T* x, std::int64_t n) {
  double acc = 0.0;
#pragma omp simd reduction(+ : acc)
  for (std::int64_t i = 0; i < n; ++i) acc += static_cast<double>(x[i]);
  return acc;
}

// The extreme of a block, NaN ignored, and whether the block holds a NaN.
template <typename T>
struct Extreme {
  T value;
  bool nan;
};

// Starts from -inf (+inf) so that a NaN never becomes the running extreme.
template <typename T>
Extreme<T> block_extreme(const T* x, std::int64_t n, bool maximum) {
  int nan = 0;
  if (maximum) {
    T best = -std::numeric_limits<T>::infinity();
#pragma omp simd reduction(max : best) reduction(| : nan)
    for (std::int64_t i = 0; i < n; ++i) {
      best = x[i] > best ? x[i] : best;
      nan |= x[i] != x[i];
    }
    return {best, nan != 0};
  }
  T best = std::numeric_limits<T>::infinity();
#pragma omp simd reduction(min : best) reduction(| : nan)
  for (std::int64_t i = 0; i < n; ++i) {
    best = x[i] < best ? x[i] : best;
    nan |= x[i] != x[i];
  }
  return {best, nan != 0};
}

template <typename T>
Extreme<T> merge(Extreme<T> a, Extreme<T> b, bool maximum) {
  const bool b_wins = maximum ? b.value > a.value : b.value < a.value;
  return {b_wins ? b.value : a.value, a.nan || b.nan};
}

// Folds block(b) over the blocks of a row of K elements, left to right, with
// the blocks computed on all threads when `parallel` (same result either way).
template <typename Part, typename Block, typename Merge>
Part fold_blocks(std::int64_t K, bool parallel, Block block, Merge merge_parts) {
  const std::int64_t blocks = (K + kBlock - 1) / kBlock;
  const auto len = [&](std::int64_t b) { return std::min(kBlock, K - b * kBlock); };
  if (!parallel) {
    Part acc = block(0, len(0));
    for (std::int64_t b = 1; b < blocks; ++b) acc = merge_parts(acc, block(b * kBlock, len(b)));
    return acc;
  }
  std::vector<Part> part(static_cast<std::size_t>(blocks));
#pragma omp parallel for schedule(static)
  for (std::int64_t b = 0; b < blocks; ++b) part[b] = block(b * kBlock, len(b));
  Part acc = part[0];
  for (std::int64_t b = 1; b < blocks; ++b) acc = merge_parts(acc, part[b]);
  return acc;
}

// Reduces row x: (K), K >= 1, and writes the result for op into *out (T or i64).
template <typename T>
void reduce_row(ReduceOp op, const T* x, std::int64_t K, bool parallel, void* out) {
  if (op == ReduceOp::sum || op == ReduceOp::mean) {
    const double sum = fold_blocks<double>(
        K, parallel, [x](std::int64_t at, std::int64_t n) { return block_sum(x + at, n); },
        [](double a, double b) { return a + b; });
    *static_cast<T*>(out) =
        static_cast<T>(op == ReduceOp::mean ? sum / static_cast<double>(K) : sum);
    return;
  }
  const bool maximum = op == ReduceOp::max || op == ReduceOp::argmax;
  const Extreme<T> e = fold_blocks<Extreme<T>>(
      K, parallel,
      [x, maximum](std::int64_t at, std::int64_t n) { return block_extreme(x + at, n, maximum); },
      [maximum](Extreme<T> a, Extreme<T> b) { return merge(a, b, maximum); });
  // The first NaN wins; otherwise the first index holding the extreme.
  std::int64_t at = 0;
  if (e.nan) {
    while (!std::isnan(x[at])) ++at;
  } else {
    while (x[at] != e.value) ++at;
  }
  if (op == ReduceOp::argmax || op == ReduceOp::argmin)
    *static_cast<std::int64_t*>(out) = at;
  else
    *static_cast<T*>(out) = x[at];
}

template <typename T>
void reduce_typed(ReduceOp op, const Tensor& x, Tensor& out) {
  const std::int64_t M = x.shape()[0], K = x.shape()[1];
  const T* px = x.data<T>();  // x: (M, K)
  const bool arg = op == ReduceOp::argmax || op == ReduceOp::argmin;
  char* po = static_cast<char*>(out.raw_data());  // out: (M), T or i64
  const std::size_t out_size = arg ? sizeof(std::int64_t) : sizeof(T);
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  if (M >= threads || K < 2 * kBlock) {
#pragma omp parallel for if (M * K >= kGrainCheap && M > 1) schedule(static)
    for (std::int64_t m = 0; m < M; ++m) reduce_row(op, px + m * K, K, false, po + m * out_size);
  } else {
    for (std::int64_t m = 0; m < M; ++m) reduce_row(op, px + m * K, K, true, po + m * out_size);
  }
}

bool is_matrix(const Tensor& t, DType d, const Shape& shape) {
  return t.dtype() == d && t.shape() == shape && t.is_contiguous();
}

}  // namespace

// x: (M, K) contiguous -> out: (M), x's dtype (i64 for argmax/argmin).
void reduce(ReduceOp op, const Tensor& x, Tensor& out) {
  const bool arg = op == ReduceOp::argmax || op == ReduceOp::argmin;
  // An empty axis (an error, or NaN for mean) and odd dtypes: the reference decides.
  const bool fits = x.dim() == 2 && x.shape()[1] > 0 && x.is_contiguous() &&
                    is_matrix(out, arg ? DType::i64 : x.dtype(), {x.shape()[0]});
  if (fits && x.dtype() == DType::f32) return reduce_typed<float>(op, x, out);
  if (fits && x.dtype() == DType::f64) return reduce_typed<double>(op, x, out);
  ref_kernel(&Kernels::reduce, "reduce")(op, x, out);
}

namespace {

template <typename T>
void softmax_typed(const Tensor& x, Tensor& out, bool log) {
  const std::int64_t M = x.shape()[0], K = x.shape()[1];
  const T* px = x.data<T>();  // x: (M, K)
  T* po = out.data<T>();      // out: (M, K)
#pragma omp parallel for if (M * K >= kGrainMath && M > 1) schedule(static)
  for (std::int64_t m = 0; m < M; ++m) {
    const T* xr = px + m * K;
    T* orow = po + m * K;
    T hi = -std::numeric_limits<T>::infinity();  // NaN is skipped, like fmax
#pragma omp simd reduction(max : hi)
    for (std::int64_t k = 0; k < K; ++k) hi = xr[k] > hi ? xr[k] : hi;
    double sum = 0.0;
    for (std::int64_t k = 0; k < K; ++k) {
      const T e = std::exp(xr[k] - hi);
      if (!log) orow[k] = e;
      sum += static_cast<double>(e);
    }
    if (log) {
      const T log_sum = static_cast<T>(std::log(sum));
#pragma omp simd
      for (std::int64_t k = 0; k < K; ++k) orow[k] = (xr[k] - hi) - log_sum;
    } else {
      const T inv = static_cast<T>(1.0 / sum);
#pragma omp simd
      for (std::int64_t k = 0; k < K; ++k) orow[k] *= inv;
    }
  }
}

// softmax: dx = y * (dy - sum(dy * y)); log_softmax: dx = dy - exp(y) * sum(dy).
template <typename T>
void softmax_backward_typed(const Tensor& y, const Tensor& dy, Tensor& dx, bool log) {
  const std::int64_t M = y.shape()[0], K = y.shape()[1];
  const T* py = y.data<T>();    // y: (M, K)
  const T* pdy = dy.data<T>();  // dy: (M, K)
  T* pdx = dx.data<T>();        // dx: (M, K)
#pragma omp parallel for if (M * K >= kGrainMath && M > 1) schedule(static)
  for (std::int64_t m = 0; m < M; ++m) {
    const T* yr = py + m * K;
    const T* gr = pdy + m * K;
    T* dr = pdx + m * K;
    double dot = 0.0;
    if (log) {
#pragma omp simd reduction(+ : dot)
      for (std::int64_t k = 0; k < K; ++k) dot += static_cast<double>(gr[k]);
      const T s = static_cast<T>(dot);
      for (std::int64_t k = 0; k < K; ++k) dr[k] = gr[k] - std::exp(yr[k]) * s;
    } else {
#pragma omp simd reduction(+ : dot)
      for (std::int64_t k = 0; k < K; ++k)
        dot += static_cast<double>(gr[k]) * static_cast<double>(yr[k]);
      const T s = static_cast<T>(dot);
#pragma omp simd
      for (std::int64_t k = 0; k < K; ++k) dr[k] = yr[k] * (gr[k] - s);
    }
  }
}

}  // namespace

// x: (M, K) contiguous -> out: (M, K).
void softmax(const Tensor& x, Tensor& out, bool log) {
  const bool fits = x.dim() == 2 && x.is_contiguous() && is_matrix(out, x.dtype(), x.shape());
  if (fits && x.dtype() == DType::f32) return softmax_typed<float>(x, out, log);
  if (fits && x.dtype() == DType::f64) return softmax_typed<double>(x, out, log);
  ref_kernel(&Kernels::softmax, "softmax")(x, out, log);
}

// y, dy, dx: (M, K) contiguous.
void softmax_backward(const Tensor& y, const Tensor& dy, Tensor& dx, bool log) {
  const bool fits = y.dim() == 2 && y.is_contiguous() && is_matrix(dy, y.dtype(), y.shape()) &&
                    is_matrix(dx, y.dtype(), y.shape());
  if (fits && y.dtype() == DType::f32) return softmax_backward_typed<float>(y, dy, dx, log);
  if (fits && y.dtype() == DType::f64) return softmax_backward_typed<double>(y, dy, dx, log);
  ref_kernel(&Kernels::softmax_backward, "softmax_backward")(y, dy, dx, log);
}

}  // namespace cortex::backend::cpu
