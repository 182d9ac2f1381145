// Activations and (log-)softmax on any axis.
#include "cortex/ops/activation.h"

#include "cortex/autograd/grad_mode.h"
#include "elementwise_internal.h"

namespace cortex {
using autograd::record;
using autograd::save;
using backend::UnaryOp;
using detail::unary;

Tensor relu(const Tensor& x) { return unary(UnaryOp::relu, x); }
Tensor leaky_relu(const Tensor& x, double slope) { return unary(UnaryOp::leaky_relu, x, {slope}); }
Tensor elu(const Tensor& x, double alpha) { return unary(UnaryOp::elu, x, {alpha}); }
Tensor selu(const Tensor& x) { return unary(UnaryOp::selu, x); }
Tensor sigmoid(const Tensor& x) { return unary(UnaryOp::sigmoid, x); }
Tensor tanh(const Tensor& x) { return unary(UnaryOp::tanh, x); }
Tensor gelu(const Tensor& x) { return unary(UnaryOp::gelu, x); }
Tensor softplus(const Tensor& x) { return unary(UnaryOp::softplus, x); }
Tensor silu(const Tensor& x) { return unary(UnaryOp::silu, x); }

namespace {

// Softmax kernels work on (rows, K) with the axis last: these move the axis
// there and back. Unrecorded; the op records one node.
bool axis_is_last(const Tensor& t, int axis) { return t.dim() == 0 || axis == t.dim() - 1; }

Tensor to_rows(const Tensor& t, int axis) {
  Tensor moved = axis_is_last(t, axis) ? t : t.transpose(axis, -1);
  std::int64_t k = t.dim() == 0 ? 1 : moved.shape().back();
  return detail::as_rows(detail::contiguous_raw(moved), k);
}

Tensor from_rows(const Tensor& rows, int axis, const Shape& shape) {
  if (shape.empty() || axis == static_cast<int>(shape.size()) - 1) return rows.view(shape);
  Shape moved = shape;
  std::swap(moved[axis], moved.back());
  return detail::contiguous_raw(rows.view(moved).transpose(axis, -1));
}

Tensor softmax_impl(const Tensor& x_in, std::int64_t axis_in, bool log) {
  const char* name = log ? "log_softmax" : "softmax";
  Tensor x = detail::to_f32_if_autocast(x_in);  // in f32 under autocast, as PyTorch's
  detail::check_floating(x, name);
  int axis = normalize_axis(axis_in, x.dim(), name);
  Tensor y;
  {
    NoGradGuard raw;
    Tensor rows = to_rows(x, axis);
    Tensor out = detail::alloc(rows.shape(), rows.dtype(), rows.device());
    detail::kernel(&Kernels::softmax, x.device(), name)(rows, out, log);
    y = from_rows(out, axis, x.shape());
  }
  Tensor ys = save(y);
  return record(name, y, {x}, [=](const Tensor& g) -> std::vector<Tensor> {
    Tensor yr = to_rows(ys, axis), gr = to_rows(g, axis);
    Tensor dx = detail::alloc(yr.shape(), yr.dtype(), yr.device());
    detail::kernel(&Kernels::softmax_backward, ys.device(), name)(yr, gr, dx, log);
    return {from_rows(dx, axis, ys.shape())};
  });
}

}  // namespace

Tensor softmax(const Tensor& x, std::int64_t axis) { return softmax_impl(x, axis, false); }
Tensor log_softmax(const Tensor& x, std::int64_t axis) { return softmax_impl(x, axis, true); }

}  // namespace cortex
