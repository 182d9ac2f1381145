// Reference unary kernels: every UnaryOp forward and its gradient, one scalar
// formula per op, evaluated in double.
#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

#include "backends/ref/ref_common.h"
#include "backends/ref/ref_kernels.h"

namespace cortex::backend::ref {
namespace {

constexpr double kSeluAlpha = 1.6732632423543772;
constexpr double kSeluScale = 1.0507009873554805;
constexpr double kSoftplusThreshold = 20.0;  // PyTorch's: above it log1p(exp(x)) - x < 3e-9

double sigmoid(double x) {
  // Only ever exponentiates a non-positive number, so it never overflows.
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}

double normal_cdf(double x) { return 0.5 * (1.0 + std::erf(x / std::numbers::sqrt2)); }
double normal_pdf(double x) { return std::exp(-0.5 * x * x) / std::sqrt(2.0 * std::numbers::pi); }

double unary_scalar(UnaryOp op, double x, const UnaryParams& p) {
  if (std::isnan(x)) return x;  // every op propagates NaN, as in PyTorch
  switch (op) {
    case UnaryOp::neg: return -x;
    case UnaryOp::exp: return std::exp(x);
    case UnaryOp::log: return std::log(x);
    case UnaryOp::sqrt: return std::sqrt(x);
    case UnaryOp::rsqrt: return 1.0 / std::sqrt(x);
    case UnaryOp::abs: return std::abs(x);
    case UnaryOp::square: return x * x;
    case UnaryOp::sign: return x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0;
    case UnaryOp::relu: return x > 0 ? x : 0.0;
    case UnaryOp::leaky_relu: return x > 0 ? x : p.a * x;
    case UnaryOp::elu: return x > 0 ? x : p.a * std::expm1(x);
    case UnaryOp::selu: return kSeluScale * (x > 0 ? x : kSeluAlpha * std::expm1(x));
    case UnaryOp::sigmoid: return sigmoid(x);
    case UnaryOp::tanh: return std::tanh(x);
    case UnaryOp::gelu: return x * normal_cdf(x);
    case UnaryOp::softplus: return x > kSoftplusThreshold ? x : std::log1p(std::exp(x));
    case UnaryOp::silu: return x * sigmoid(x);
    case UnaryOp::clamp: return std::min(std::max(x, p.a), p.b);
  }
  fail<ValueError>("ref unary: unknown op ", static_cast<int>(op));
}

// dx for one element, given x, y = op(x) and dy. Where the derivative has a
// kink it takes the value PyTorch uses: relu'(0) = 0, abs'(0) = 0, clamp passes
// the gradient on the closed interval [a, b].
double unary_grad(UnaryOp op, double x, double y, double dy, const UnaryParams& p) {
  switch (op) {
    case UnaryOp::neg: return -dy;
    case UnaryOp::exp: return dy * y;
    case UnaryOp::log: return dy / x;
    case UnaryOp::sqrt: return dy * 0.5 / y;
    case UnaryOp::rsqrt: return -0.5 * dy * y * y * y;
    case UnaryOp::abs: return x > 0 ? dy : x < 0 ? -dy : 0.0;
    case UnaryOp::square: return dy * 2.0 * x;
    case UnaryOp::sign: return 0.0;
    case UnaryOp::relu: return x > 0 ? dy : 0.0;
    case UnaryOp::leaky_relu: return x > 0 ? dy : dy * p.a;
    case UnaryOp::elu: return x > 0 ? dy : dy * (y + p.a);
    case UnaryOp::selu: return x > 0 ? dy * kSeluScale : dy * kSeluScale * kSeluAlpha * std::exp(x);
    case UnaryOp::sigmoid: return dy * y * (1.0 - y);
    case UnaryOp::tanh: return dy * (1.0 - y * y);
    case UnaryOp::gelu: return dy * (normal_cdf(x) + x * normal_pdf(x));
    case UnaryOp::softplus: return dy * sigmoid(x);
    case UnaryOp::silu: {
      const double s = sigmoid(x);
      return dy * (s + x * s * (1.0 - s));
    }
    case UnaryOp::clamp: return (p.a <= x && x <= p.b) ? dy : 0.0;
  }
  fail<ValueError>("ref unary_backward: unknown op ", static_cast<int>(op));
}

}  // namespace

// x: any shape, f32 or f64, strided; out: the same shape and dtype.
void unary(UnaryOp op, const Tensor& x, Tensor& out, const UnaryParams& p) {
  const std::string what = std::string("unary ") + unary_name(op);
  expect_shape(x, out.shape(), what, "x");
  expect_dtype(out, x.dtype(), what, "out");
  visit_float(x.dtype(), what, [&](auto tag) {
    using T = decltype(tag);
    const T* px = storage_ptr<T>(x);
    T* po = storage_ptr<T>(out);
    for_each_element<2>(out.shape(), {&x, &out}, [&](const auto& off) {
      po[off[1]] = static_cast<T>(unary_scalar(op, px[off[0]], p));
    });
  });
}

// x, y, dy: the shape of dx, its dtype, strided; dx: contiguous.
void unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx,
                    const UnaryParams& p) {
  const std::string what = std::string("unary_backward ") + unary_name(op);
  expect_shape(x, dx.shape(), what, "x");
  expect_shape(y, dx.shape(), what, "y");
  expect_shape(dy, dx.shape(), what, "dy");
  expect_dtype(y, x.dtype(), what, "y");
  expect_dtype(dy, x.dtype(), what, "dy");
  expect_dtype(dx, x.dtype(), what, "dx");
  visit_float(x.dtype(), what, [&](auto tag) {
    using T = decltype(tag);
    const T* px = storage_ptr<T>(x);
    const T* py = storage_ptr<T>(y);
    const T* pdy = storage_ptr<T>(dy);
    T* pdx = storage_ptr<T>(dx);
    for_each_element<4>(dx.shape(), {&x, &y, &dy, &dx}, [&](const auto& off) {
      pdx[off[3]] = static_cast<T>(unary_grad(op, px[off[0]], py[off[1]], pdy[off[2]], p));
    });
  });
}

}  // namespace cortex::backend::ref
