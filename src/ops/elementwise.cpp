// Element-wise arithmetic and comparisons with broadcasting, and their gradients.
#include "cortex/ops/elementwise.h"

#include "cortex/ops/creation.h"
#include "elementwise_internal.h"

namespace cortex {
using autograd::record;
using autograd::save;
using backend::BinaryOp;
using backend::UnaryOp;
using detail::sum_to;

namespace detail {

Tensor unary(UnaryOp op, const Tensor& x, backend::UnaryParams p) {
  const char* name = backend::unary_name(op);
  check_floating_or_bf16(x, name);
  Tensor y = alloc(x.shape(), x.dtype(), x.device());
  kernel(&Kernels::unary, x.device(), name)(op, x, y, p);
  Tensor xs = save(x), ys = save(y);
  return record(name, y, {x}, [=](const Tensor& g) -> std::vector<Tensor> {
    Tensor dx = alloc(xs.shape(), xs.dtype(), xs.device());
    kernel(&Kernels::unary_backward, xs.device(), name)(op, xs, ys, g, dx, p);
    return {dx};
  });
}

Tensor binary_raw(BinaryOp op, const Tensor& a_in, const Tensor& b_in, const char* name) {
  check_defined(a_in, name, "the first operand");
  check_defined(b_in, name, "the second operand");
  check_same_device(a_in, b_in, name);
  Tensor a = a_in, b = b_in;
  if (backend::is_comparison(op) && a.dtype() == b.dtype() && !is_floating(a.dtype())) {
    a = a.to(DType::f64);  // integers up to 2^53 compare exactly as f64
    b = b.to(DType::f64);
  }
  check_same_dtype(a, b, name);
  check_floating_or_bf16(a, name);
  Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor out = alloc(shape, backend::is_comparison(op) ? DType::boolean : a.dtype(), a.device());
  kernel(&Kernels::binary, a.device(), name)(op, expand_raw(a, shape), expand_raw(b, shape), out);
  return out;
}

}  // namespace detail

namespace {
using detail::binary_raw;

// bf16 meeting f32 computes in f32 (PyTorch's type promotion; autocast's
// activations meet f32 tensors such as batch-norm statistics), through a
// recorded cast so the bf16 operand's gradient comes back in bf16.
std::pair<Tensor, Tensor> promoted(const Tensor& a, const Tensor& b) {
  if (a.defined() && b.defined()) {
    if (a.dtype() == DType::bf16 && b.dtype() == DType::f32) return {a.to(DType::f32), b};
    if (a.dtype() == DType::f32 && b.dtype() == DType::bf16) return {a, b.to(DType::f32)};
  }
  return {a, b};
}

// Records a binary op whose rule gives (da, db) at the broadcast shape.
template <typename Rule>
Tensor binary_recorded(BinaryOp op, const Tensor& a_in, const Tensor& b_in, Rule rule) {
  const char* name = backend::binary_name(op);
  auto [a, b] = promoted(a_in, b_in);
  Tensor out = binary_raw(op, a, b, name);
  Tensor as = save(a), bs = save(b), os = save(out);
  bool need_a = a.requires_grad(), need_b = b.requires_grad();
  return record(name, out, {a, b}, [=](const Tensor& g) -> std::vector<Tensor> {
    auto [da, db] = rule(g, as, bs, os, need_a, need_b);
    return {da.defined() ? sum_to(da, as.shape()) : da, db.defined() ? sum_to(db, bs.shape()) : db};
  });
}

using Pair = std::pair<Tensor, Tensor>;

Tensor extreme(BinaryOp op, const Tensor& a, const Tensor& b) {
  return binary_recorded(op, a, b, [op](const Tensor& g, const Tensor& a, const Tensor& b, const Tensor&,
                                        bool, bool) {
    Tensor wins = op == BinaryOp::maximum ? gt(a, b) : lt(a, b);
    Tensor tie = eq(a, b);
    Tensor half = g * 0.5, zero = zeros_like(g);
    Tensor ga = where(wins, g, where(tie, half, zero));
    Tensor gb = where(wins, zero, where(tie, half, g));
    return Pair{ga, gb};
  });
}

Tensor compare(BinaryOp op, const Tensor& a_in, const Tensor& b_in) {
  auto [a, b] = promoted(a_in, b_in);
  return binary_raw(op, a, b, backend::binary_name(op));
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  return binary_recorded(BinaryOp::add, a, b, [](const Tensor& g, auto&, auto&, auto&, bool, bool) {
    return Pair{g, g};
  });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  return binary_recorded(BinaryOp::sub, a, b, [](const Tensor& g, auto&, auto&, auto&, bool, bool nb) {
    return Pair{g, nb ? neg(g) : Tensor()};
  });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  return binary_recorded(BinaryOp::mul, a, b,
                         [](const Tensor& g, const Tensor& a, const Tensor& b, auto&, bool na, bool nb) {
                           return Pair{na ? g * b : Tensor(), nb ? g * a : Tensor()};
                         });
}

Tensor div(const Tensor& a, const Tensor& b) {
  return binary_recorded(BinaryOp::div, a, b,
                         [](const Tensor& g, auto&, const Tensor& b, const Tensor& out, bool na, bool nb) {
                           Tensor ga = g / b;
                           return Pair{na ? ga : Tensor(), nb ? neg(ga * out) : Tensor()};
                         });
}

Tensor pow(const Tensor& a, const Tensor& b) {
  return binary_recorded(BinaryOp::pow, a, b,
                         [](const Tensor& g, const Tensor& a, const Tensor& b, const Tensor& out, bool na, bool nb) {
                           // PyTorch's masks: d/da is 0 where b = 0 (not 0 * 0^-1 = NaN), d/db is 0
                           // where a = 0 and b >= 0 (not 0 * log 0 = NaN).
                           Tensor ga, gb;
                           if (na) {
                             ga = g * b * pow(a, b - 1.0);
                             ga = where(eq(b, zeros_like(b)), zeros_like(ga), ga);
                           }
                           if (nb) {
                             gb = g * out * log(a);
                             const Tensor zero = zeros_like(gb);
                             gb = where(eq(a, zeros_like(a)), where(ge(b, zeros_like(b)), zero, gb), gb);
                           }
                           return Pair{ga, gb};
                         });
}

Tensor pow(const Tensor& a, double exponent) {
  detail::check_defined(a, "pow", "the base");
  return pow(a, detail::scalar_like(exponent, a));
}

Tensor maximum(const Tensor& a, const Tensor& b) { return extreme(BinaryOp::maximum, a, b); }
Tensor minimum(const Tensor& a, const Tensor& b) { return extreme(BinaryOp::minimum, a, b); }

Tensor neg(const Tensor& x) { return detail::unary(UnaryOp::neg, x); }
Tensor exp(const Tensor& x) { return detail::unary(UnaryOp::exp, x); }
Tensor log(const Tensor& x) { return detail::unary(UnaryOp::log, x); }
Tensor sqrt(const Tensor& x) { return detail::unary(UnaryOp::sqrt, x); }
Tensor rsqrt(const Tensor& x) { return detail::unary(UnaryOp::rsqrt, x); }
Tensor abs(const Tensor& x) { return detail::unary(UnaryOp::abs, x); }
Tensor square(const Tensor& x) { return detail::unary(UnaryOp::square, x); }
Tensor sign(const Tensor& x) { return detail::unary(UnaryOp::sign, x); }

Tensor clamp(const Tensor& x, double low, double high) {
  if (!(low <= high)) fail<ValueError>("clamp expects low <= high, got ", low, " and ", high);
  return detail::unary(UnaryOp::clamp, x, {low, high});
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  detail::check_defined(cond, "where", "the condition");
  if (cond.dtype() != DType::boolean)
    fail<DTypeError>("where expects a bool condition, got ", dtype_name(cond.dtype()));
  detail::check_same_dtype(a, b, "where");
  detail::check_same_device(a, b, "where");
  detail::check_same_device(cond, a, "where");
  Shape shape = broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(), "where");
  Tensor out = detail::alloc(shape, a.dtype(), a.device());
  detail::kernel(&Kernels::where, a.device(), "where")(detail::expand_raw(cond, shape),
                                                      detail::expand_raw(a, shape),
                                                      detail::expand_raw(b, shape), out);
  Tensor cs = save(cond);
  Shape sa = a.shape(), sb = b.shape();
  return record("where", out, {a, b}, [=](const Tensor& g) -> std::vector<Tensor> {
    Tensor zero = zeros_like(g);
    return {sum_to(where(cs, g, zero), sa), sum_to(where(cs, zero, g), sb)};
  }, {cond});
}

Tensor eq(const Tensor& a, const Tensor& b) { return compare(BinaryOp::eq, a, b); }
Tensor ne(const Tensor& a, const Tensor& b) { return compare(BinaryOp::ne, a, b); }
Tensor lt(const Tensor& a, const Tensor& b) { return compare(BinaryOp::lt, a, b); }
Tensor le(const Tensor& a, const Tensor& b) { return compare(BinaryOp::le, a, b); }
Tensor gt(const Tensor& a, const Tensor& b) { return compare(BinaryOp::gt, a, b); }
Tensor ge(const Tensor& a, const Tensor& b) { return compare(BinaryOp::ge, a, b); }

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator-(const Tensor& x) { return neg(x); }
Tensor operator+(const Tensor& a, double b) { return add(a, detail::scalar_like(b, a)); }
Tensor operator-(const Tensor& a, double b) { return sub(a, detail::scalar_like(b, a)); }
Tensor operator*(const Tensor& a, double b) { return mul(a, detail::scalar_like(b, a)); }
Tensor operator/(const Tensor& a, double b) { return div(a, detail::scalar_like(b, a)); }
Tensor operator+(double a, const Tensor& b) { return add(detail::scalar_like(a, b), b); }
Tensor operator-(double a, const Tensor& b) { return sub(detail::scalar_like(a, b), b); }
Tensor operator*(double a, const Tensor& b) { return mul(detail::scalar_like(a, b), b); }
Tensor operator/(double a, const Tensor& b) { return div(detail::scalar_like(a, b), b); }
Tensor operator==(const Tensor& a, const Tensor& b) { return eq(a, b); }
Tensor operator!=(const Tensor& a, const Tensor& b) { return ne(a, b); }
Tensor operator<(const Tensor& a, const Tensor& b) { return lt(a, b); }
Tensor operator<=(const Tensor& a, const Tensor& b) { return le(a, b); }
Tensor operator>(const Tensor& a, const Tensor& b) { return gt(a, b); }
Tensor operator>=(const Tensor& a, const Tensor& b) { return ge(a, b); }

}  // namespace cortex
