// Reference row reductions and (log-)softmax with its gradient, over the last
// axis of an (M, K) matrix; sums accumulate in double.
#include <cmath>
#include <cstdint>
#include <string>

#include "backends/ref/ref_common.h"
#include "backends/ref/ref_kernels.h"

namespace cortex::backend::ref {
namespace {

bool is_arg(ReduceOp op) { return op == ReduceOp::argmax || op == ReduceOp::argmin; }
bool wants_max(ReduceOp op) { return op == ReduceOp::max || op == ReduceOp::argmax; }

// Index of the extreme value of row m: the first one, or the first NaN.
template <typename T>
std::int64_t extreme_index(const View<const T, 2>& x, std::int64_t m, bool maximum) {
  std::int64_t best = 0;
  for (std::int64_t k = 0; k < x.size(1); ++k) {
    const T v = x(m, k);
    if (std::isnan(v)) return k;
    if (k > 0 && (maximum ? v > x(m, best) : v < x(m, best))) best = k;
  }
  return best;
}

template <typename T>
void reduce_typed(ReduceOp op, const Tensor& x, Tensor& out, const std::string& what) {
  const View<const T, 2> xv(x, what, "x");  // x: (M, K)
  const std::int64_t M = xv.size(0), K = xv.size(1);
  expect_shape(out, {M}, what, "out");
  if (K == 0 && op != ReduceOp::sum && op != ReduceOp::mean)
    fail<ValueError>("ref reduce: ", reduce_name(op), " of an empty axis (x has shape ",
                     shape_str(x.shape()), ")");
  if (is_arg(op)) {
    const View<std::int64_t, 1> ov(out, what, "out");  // out: (M) i64
    for (std::int64_t m = 0; m < M; ++m) ov(m) = extreme_index(xv, m, wants_max(op));
    return;
  }
  const View<T, 1> ov(out, what, "out");  // out: (M)
  for (std::int64_t m = 0; m < M; ++m) {
    if (op == ReduceOp::max || op == ReduceOp::min) {
      ov(m) = xv(m, extreme_index(xv, m, wants_max(op)));
      continue;
    }
    double sum = 0.0;
    for (std::int64_t k = 0; k < K; ++k) sum += xv(m, k);
    // mean of an empty axis is 0/0 = NaN, like numpy.
    ov(m) = static_cast<T>(op == ReduceOp::mean ? sum / static_cast<double>(K) : sum);
  }
}

}  // namespace

// x: (M, K), f32 or f64 -> out: (M), x's dtype (i64 for argmax/argmin).
void reduce(ReduceOp op, const Tensor& x, Tensor& out) {
  const std::string what = std::string("reduce ") + reduce_name(op);
  visit_float(x.dtype(), what, [&](auto tag) { reduce_typed<decltype(tag)>(op, x, out, what); });
}

// x: (M, K) -> out: (M, K). Subtracts the row max before exponentiating.
void softmax(const Tensor& x, Tensor& out, bool log) {
  const char* what = log ? "log_softmax" : "softmax";
  expect_shape(out, x.shape(), what, "out");
  visit_float(x.dtype(), what, [&](auto tag) {
    using T = decltype(tag);
    const View<const T, 2> xv(x, what, "x");  // x: (M, K)
    const View<T, 2> ov(out, what, "out");    // out: (M, K)
    for (std::int64_t m = 0; m < xv.size(0); ++m) {
      double max = -INFINITY;
      for (std::int64_t k = 0; k < xv.size(1); ++k) max = std::fmax(max, xv(m, k));
      double sum = 0.0;
      for (std::int64_t k = 0; k < xv.size(1); ++k) sum += std::exp(xv(m, k) - max);
      const double log_sum = std::log(sum);
      for (std::int64_t k = 0; k < xv.size(1); ++k) {
        const double shifted = xv(m, k) - max;
        ov(m, k) = static_cast<T>(log ? shifted - log_sum : std::exp(shifted) / sum);
      }
    }
  });
}

// y, dy, dx: (M, K). softmax: dx = y * (dy - sum(dy * y));
// log_softmax: dx = dy - exp(y) * sum(dy).
void softmax_backward(const Tensor& y, const Tensor& dy, Tensor& dx, bool log) {
  const char* what = log ? "log_softmax_backward" : "softmax_backward";
  expect_shape(dy, y.shape(), what, "dy");
  expect_shape(dx, y.shape(), what, "dx");
  visit_float(y.dtype(), what, [&](auto tag) {
    using T = decltype(tag);
    const View<const T, 2> yv(y, what, "y");    // y: (M, K)
    const View<const T, 2> dyv(dy, what, "dy");  // dy: (M, K)
    const View<T, 2> dxv(dx, what, "dx");        // dx: (M, K)
    for (std::int64_t m = 0; m < yv.size(0); ++m) {
      double dot = 0.0;
      for (std::int64_t k = 0; k < yv.size(1); ++k)
        dot += log ? static_cast<double>(dyv(m, k)) : static_cast<double>(dyv(m, k)) * yv(m, k);
      for (std::int64_t k = 0; k < yv.size(1); ++k) {
        const double yk = yv(m, k), dyk = dyv(m, k);
        dxv(m, k) = static_cast<T>(log ? dyk - std::exp(yk) * dot : yk * (dyk - dot));
      }
    }
  });
}

// logits, targets: (M, K) -> loss: (M); grad: (M, K) or null (contract in kernels.h).
void softmax_cross_entropy(const Tensor& logits, const Tensor& targets, Tensor& loss, Tensor* grad) {
  const char* what = "softmax_cross_entropy";
  expect_shape(targets, logits.shape(), what, "targets");
  if (grad != nullptr) expect_shape(*grad, logits.shape(), what, "grad");
  visit_float(logits.dtype(), what, [&](auto tag) {
    using T = decltype(tag);
    const View<const T, 2> xv(logits, what, "logits");  // (M, K)
    const View<const T, 2> tv(targets, what, "targets");  // (M, K)
    const View<T, 1> lv(loss, what, "loss");              // (M)
    for (std::int64_t m = 0; m < xv.size(0); ++m) {
      double max = -INFINITY;
      for (std::int64_t k = 0; k < xv.size(1); ++k) max = std::fmax(max, xv(m, k));
      double sum = 0.0;
      for (std::int64_t k = 0; k < xv.size(1); ++k) sum += std::exp(xv(m, k) - max);
      const double lse = max + std::log(sum);
      double row = 0.0, total = 0.0;
      for (std::int64_t k = 0; k < xv.size(1); ++k) {
        row += tv(m, k) * (lse - xv(m, k));
        total += tv(m, k);
      }
      lv(m) = static_cast<T>(row);
      if (grad == nullptr) continue;
      const View<T, 2> gv(*grad, what, "grad");  // (M, K)
      for (std::int64_t k = 0; k < xv.size(1); ++k)
        gv(m, k) = static_cast<T>(std::exp(xv(m, k) - lse) * total - tv(m, k));
    }
  });
}

}  // namespace cortex::backend::ref
