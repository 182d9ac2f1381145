// Reductions: the chosen axes are moved last and the kernel reduces (M, K) rows.
#include "cortex/ops/reduce.h"

#include <limits>

#include "cortex/autograd/grad_mode.h"
#include "cortex/ops/creation.h"
#include "cortex/ops/elementwise.h"
#include "op_util.h"

namespace cortex {
using autograd::record;
using autograd::save;
using backend::ReduceOp;

namespace {

struct Plan {
  std::vector<std::int64_t> axes;  // sorted, normalised
  Shape kept_shape;                // output shape without keepdims
  Shape keep_shape;                // output shape with keepdims
  std::int64_t k = 1;              // elements reduced per output
};

Plan plan(const Tensor& x, const Axes& axes_in, const char* op) {
  Plan p;
  p.axes = detail::normalize_axes(axes_in, x.dim(), op);
  std::vector<bool> reduced(x.dim(), false);
  for (auto a : p.axes) reduced[a] = true;
  for (std::int64_t i = 0; i < x.dim(); ++i) {
    if (reduced[i]) {
      p.k *= x.shape()[i];
      p.keep_shape.push_back(1);
    } else {
      p.kept_shape.push_back(x.shape()[i]);
      p.keep_shape.push_back(x.shape()[i]);
    }
  }
  return p;
}

// Unrecorded reduction of x over the plan's axes; shape = kept or keep shape.
Tensor reduce_raw(ReduceOp op, const Tensor& x, const Plan& p, bool keepdims) {
  Shape sh;
  Strides st;
  for (int pass = 0; pass < 2; ++pass)  // kept axes first, then reduced ones
    for (std::int64_t i = 0; i < x.dim(); ++i) {
      bool red = std::find(p.axes.begin(), p.axes.end(), i) != p.axes.end();
      if (red == (pass == 1)) { sh.push_back(x.shape()[i]); st.push_back(x.strides()[i]); }
    }
  Tensor moved = detail::contiguous_raw(x.as_strided(sh, st, x.offset()));
  std::int64_t m = numel(p.kept_shape);
  Tensor rows = moved.as_strided({m, p.k}, {p.k, 1}, moved.offset());
  bool index = op == ReduceOp::argmax || op == ReduceOp::argmin;
  Tensor out = detail::alloc({m}, index ? DType::i64 : x.dtype(), x.device());
  detail::kernel(&Kernels::reduce, x.device(), backend::reduce_name(op))(op, rows, out);
  return out.view(keepdims ? p.keep_shape : p.kept_shape);
}

Tensor sum_or_mean(ReduceOp op, const Tensor& x, const Axes& axes, bool keepdims) {
  const char* name = backend::reduce_name(op);
  detail::check_floating_or_bf16(x, name);
  Plan p = plan(x, axes, name);
  Tensor out = reduce_raw(op, x, p, keepdims);
  Shape in = x.shape();
  double scale = op == ReduceOp::mean ? 1.0 / static_cast<double>(p.k) : 1.0;
  return record(name, out, {x}, [=](const Tensor& g) -> std::vector<Tensor> {
    Tensor ge = g.reshape(p.keep_shape).expand(in);
    return {scale == 1.0 ? ge : ge * scale};
  });
}

Tensor extreme(ReduceOp op, const Tensor& x, const Axes& axes, bool keepdims) {
  const char* name = backend::reduce_name(op);
  detail::check_floating_or_bf16(x, name);
  Plan p = plan(x, axes, name);
  if (p.k == 0) fail<ShapeError>(name, " of an empty axis: shape ", shape_str(x.shape()));
  Tensor out = reduce_raw(op, x, p, keepdims);
  Tensor xs = save(x), os = save(out);
  return record(name, out, {x}, [=](const Tensor& g) -> std::vector<Tensor> {
    // Every position holding the extreme shares its gradient equally.
    Tensor hit = eq(xs, os.reshape(p.keep_shape)).to(xs.dtype());
    Tensor count = sum(hit, p.axes, true);
    return {hit * (g.reshape(p.keep_shape) / count)};
  });
}

Tensor arg_extreme(ReduceOp op, const Tensor& x, std::int64_t axis, bool keepdims) {
  const char* name = backend::reduce_name(op);
  detail::check_floating_or_bf16(x, name);
  Plan p = plan(x, {normalize_axis(axis, x.dim(), name)}, name);
  if (p.k == 0) fail<ShapeError>(name, " of an empty axis: shape ", shape_str(x.shape()));
  return reduce_raw(op, x, p, keepdims);
}

}  // namespace

Tensor sum(const Tensor& x, const Axes& axes, bool keepdims) { return sum_or_mean(ReduceOp::sum, x, axes, keepdims); }
Tensor mean(const Tensor& x, const Axes& axes, bool keepdims) { return sum_or_mean(ReduceOp::mean, x, axes, keepdims); }
Tensor max(const Tensor& x, const Axes& axes, bool keepdims) { return extreme(ReduceOp::max, x, axes, keepdims); }
Tensor min(const Tensor& x, const Axes& axes, bool keepdims) { return extreme(ReduceOp::min, x, axes, keepdims); }
Tensor argmax(const Tensor& x, std::int64_t axis, bool keepdims) { return arg_extreme(ReduceOp::argmax, x, axis, keepdims); }
Tensor argmin(const Tensor& x, std::int64_t axis, bool keepdims) { return arg_extreme(ReduceOp::argmin, x, axis, keepdims); }

Tensor var(const Tensor& x, const Axes& axes, bool keepdims, std::int64_t correction) {
  detail::check_floating_or_bf16(x, "var");
  Plan p = plan(x, axes, "var");
  if (correction < 0) fail<ValueError>("var expects correction >= 0, got ", correction);
  Tensor centred = x - mean(x, axes, true);
  double denom = static_cast<double>(std::max<std::int64_t>(p.k - correction, 0));
  return sum(square(centred), axes, keepdims) / denom;
}

Tensor std(const Tensor& x, const Axes& axes, bool keepdims, std::int64_t correction) {
  return sqrt(var(x, axes, keepdims, correction));
}

Tensor logsumexp(const Tensor& x, const Axes& axes, bool keepdims) {
  detail::check_floating_or_bf16(x, "logsumexp");
  Tensor m;
  {
    NoGradGuard constant;  // the shift cancels in the gradient
    m = max(x, axes, true);
    m = where(eq(m, m), m, zeros_like(m));        // NaN shift -> 0
    Tensor inf = full_like(m, std::numeric_limits<double>::infinity());
    m = where(eq(abs(m), inf), zeros_like(m), m);  // all -inf row -> 0
  }
  Tensor out = log(sum(exp(x - m), axes, true)) + m;
  return keepdims ? out : out.reshape(plan(x, axes, "logsumexp").kept_shape);
}

}  // namespace cortex
