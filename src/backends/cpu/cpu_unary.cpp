// cpu unary kernels: every UnaryOp forward and its gradient as OpenMP loops in
// the tensor's own precision (f32 or f64), with the reference kernel's formulas.
#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <numbers>

#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/cpu_loops.h"

namespace cortex::backend::cpu {
namespace {

template <typename T>
struct Consts {
  static constexpr T selu_alpha = static_cast<T>(1.6732632423543772);
  static constexpr T selu_scale = static_cast<T>(1.0507009873554805);
  static constexpr T softplus_threshold = 20;  // above it log1p(exp(x)) - x < 3e-9
  static constexpr T inv_sqrt2 = static_cast<T>(1.0 / std::numbers::sqrt2);
  static constexpr T inv_sqrt_2pi = static_cast<T>(0.3989422804014327);
};

template <typename T>
T sigmoid(T x) {
  // Only ever exponentiates a non-positive number, so it never overflows.
  if (x >= 0) return T(1) / (T(1) + std::exp(-x));
  const T e = std::exp(x);
  return e / (T(1) + e);
}

template <typename T>
T normal_cdf(T x) {
  return T(0.5) * (T(1) + std::erf(x * Consts<T>::inv_sqrt2));
}

template <typename T>
void unary_typed(UnaryOp op, const Tensor& x, Tensor& out, const UnaryParams& p) {
  using C = Consts<T>;
  const T a = static_cast<T>(p.a), b = static_cast<T>(p.b);
  const auto cheap = [&](auto f) { map<T, T>(out, kGrainCheap, f, {&x}); };
  const auto math = [&](auto f) { map<T, T>(out, kGrainMath, f, {&x}); };
  // Every op propagates NaN, as the reference does; most formulas do it by themselves.
  switch (op) {
    case UnaryOp::neg:
      return cheap([](T v) { return -v; });
    case UnaryOp::exp:
      return math([](T v) { return std::exp(v); });
    case UnaryOp::log:
      return math([](T v) { return std::log(v); });
    case UnaryOp::sqrt:
      return cheap([](T v) { return std::sqrt(v); });
    case UnaryOp::rsqrt:
      return cheap([](T v) { return T(1) / std::sqrt(v); });
    case UnaryOp::abs:
      return cheap([](T v) { return std::abs(v); });
    case UnaryOp::square:
      return cheap([](T v) { return v * v; });
    case UnaryOp::sign:
      return cheap([](T v) { return v > 0 ? T(1) : v < 0 ? T(-1) : (v != v ? v : T(0)); });
    case UnaryOp::relu:
      return cheap([](T v) { return v > 0 || v != v ? v : T(0); });
    case UnaryOp::leaky_relu:
      return cheap([a](T v) { return v > 0 ? v : a * v; });
    case UnaryOp::elu:
      return math([a](T v) { return v > 0 ? v : a * std::expm1(v); });
    case UnaryOp::selu:
      return math([](T v) { return C::selu_scale * (v > 0 ? v : C::selu_alpha * std::expm1(v)); });
    case UnaryOp::sigmoid:
      return math([](T v) { return sigmoid(v); });
    case UnaryOp::tanh:
      return math([](T v) { return std::tanh(v); });
    case UnaryOp::gelu:
      return math([](T v) { return v * normal_cdf(v); });
    case UnaryOp::softplus:
      return math([](T v) { return v > C::softplus_threshold ? v : std::log1p(std::exp(v)); });
    case UnaryOp::silu:
      return math([](T v) { return v * sigmoid(v); });
    case UnaryOp::clamp:
      return cheap([a, b](T v) { return std::min(std::max(v, a), b); });
  }
  fail<ValueError>("cpu unary: unknown op ", static_cast<int>(op));
}

// dx = dy * op'(x), given x, y = op(x) and dy. Kinks take PyTorch's values:
// relu'(0) = 0, abs'(0) = 0, clamp passes the gradient on the closed [a, b].
template <typename T>
void unary_backward_typed(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& dy,
                          Tensor& dx, const UnaryParams& p) {
  using C = Consts<T>;
  const T a = static_cast<T>(p.a), b = static_cast<T>(p.b);
  // f(x, y, dy) -> dx
  const auto cheap = [&](auto f) { map<T, T, T, T>(dx, kGrainCheap, f, {&x, &y, &dy}); };
  const auto math = [&](auto f) { map<T, T, T, T>(dx, kGrainMath, f, {&x, &y, &dy}); };
  switch (op) {
    case UnaryOp::neg:
      return cheap([](T, T, T g) { return -g; });
    case UnaryOp::exp:
      return cheap([](T, T v, T g) { return g * v; });
    case UnaryOp::log:
      return cheap([](T u, T, T g) { return g / u; });
    case UnaryOp::sqrt:
      return cheap([](T, T v, T g) { return g * T(0.5) / v; });
    case UnaryOp::rsqrt:
      return cheap([](T, T v, T g) { return T(-0.5) * g * v * v * v; });
    case UnaryOp::abs:
      return cheap([](T u, T, T g) { return u > 0 ? g : u < 0 ? -g : T(0); });
    case UnaryOp::square:
      return cheap([](T u, T, T g) { return g * T(2) * u; });
    case UnaryOp::sign:
      return cheap([](T, T, T) { return T(0); });
    case UnaryOp::relu:
      return cheap([](T u, T, T g) { return u > 0 ? g : T(0); });
    case UnaryOp::leaky_relu:
      return cheap([a](T u, T, T g) { return u > 0 ? g : g * a; });
    case UnaryOp::elu:
      return cheap([a](T u, T v, T g) { return u > 0 ? g : g * (v + a); });
    case UnaryOp::selu:
      return math([](T u, T, T g) {
        return u > 0 ? g * C::selu_scale : g * C::selu_scale * C::selu_alpha * std::exp(u);
      });
    case UnaryOp::sigmoid:
      return cheap([](T, T v, T g) { return g * v * (T(1) - v); });
    case UnaryOp::tanh:
      return cheap([](T, T v, T g) { return g * (T(1) - v * v); });
    case UnaryOp::gelu:
      return math([](T u, T, T g) {
        return g * (normal_cdf(u) + u * C::inv_sqrt_2pi * std::exp(T(-0.5) * u * u));
      });
    case UnaryOp::softplus:
      return math([](T u, T, T g) { return g * sigmoid(u); });
    case UnaryOp::silu:
      return math([](T u, T, T g) {
        const T s = sigmoid(u);
        return g * (s + u * s * (T(1) - s));
      });
    case UnaryOp::clamp:
      return cheap([a, b](T u, T, T g) { return a <= u && u <= b ? g : T(0); });
  }
  fail<ValueError>("cpu unary_backward: unknown op ", static_cast<int>(op));
}

bool same_dtype(DType d, std::initializer_list<const Tensor*> ts) {
  return std::all_of(ts.begin(), ts.end(), [d](const Tensor* t) { return t->dtype() == d; });
}

}  // namespace

// x: any shape, strided; out: x's shape and dtype (f32/f64 here, others to ref).
void unary(UnaryOp op, const Tensor& x, Tensor& out, const UnaryParams& p) {
  if (x.shape() != out.shape() || !same_dtype(x.dtype(), {&out}))
    return ref_kernel(&Kernels::unary, "unary")(op, x, out, p);
  switch (x.dtype()) {
    case DType::f32:
      return unary_typed<float>(op, x, out, p);
    case DType::f64:
      return unary_typed<double>(op, x, out, p);
    default:
      return ref_kernel(&Kernels::unary, "unary")(op, x, out, p);
  }
}

// x, y, dy: dx's shape and dtype, strided -> dx.
void unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx,
                    const UnaryParams& p) {
  const bool fits = x.shape() == dx.shape() && y.shape() == dx.shape() &&
                    dy.shape() == dx.shape() && same_dtype(dx.dtype(), {&x, &y, &dy});
  const auto ref = ref_kernel(&Kernels::unary_backward, "unary_backward");
  if (!fits) return ref(op, x, y, dy, dx, p);
  switch (dx.dtype()) {
    case DType::f32:
      return unary_backward_typed<float>(op, x, y, dy, dx, p);
    case DType::f64:
      return unary_backward_typed<double>(op, x, y, dy, dx, p);
    default:
      return ref(op, x, y, dy, dx, p);
  }
}

}  // namespace cortex::backend::cpu
