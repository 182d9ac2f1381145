// The fused recurrent layer op: argument checks, the backend's kernel, and a
// node whose backward is the backend's rnn_backward.
#include "cortex/ops/rnn.h"

#include "cortex/ops/creation.h"
#include "op_util.h"

namespace cortex {
using autograd::save;

namespace {

const char* cell_name(RnnCell cell) {
  return cell == RnnCell::lstm ? "rnn (LSTM)" : cell == RnnCell::gru ? "rnn (GRU)" : "rnn (vanilla)";
}

void check_shape(const Tensor& t, const Shape& want, const char* op, const char* what) {
  detail::check_defined(t, op, what);
  if (t.shape() != want) fail<ShapeError>(op, " expects ", what, " of shape ", shape_str(want), ", got ", shape_str(t.shape()));
}

}  // namespace

bool rnn_fused(RnnCell cell, const Tensor& x) {
  const backend::Kernels& k = backend::kernels(backend::backend_for(x.device()));
  return k.rnn != nullptr && k.rnn_backward != nullptr && k.rnn_supports != nullptr && k.rnn_supports(cell, x.dtype());
}

std::vector<Tensor> rnn(RnnCell cell, const Tensor& x, const Tensor& h0, const Tensor& c0, const Tensor& kernel,
                        const Tensor& recurrent_kernel, const Tensor& bias) {
  const char* op = cell_name(cell);
  detail::check_defined(x, op, "the input");
  detail::check_floating(x, op);
  if (x.dim() != 3) fail<ShapeError>(op, " expects x of shape (batch, time, features), got ", shape_str(x.shape()));
  detail::check_defined(h0, op, "the initial state");
  if (h0.dim() != 2) fail<ShapeError>(op, " expects an initial state (batch, units), got ", shape_str(h0.shape()));
  const std::int64_t n = x.shape()[0], t_len = x.shape()[1], f = x.shape()[2], u = h0.shape()[1];
  const int g = backend::rnn_gates(cell);
  const bool lstm = cell == RnnCell::lstm;
  check_shape(h0, {n, u}, op, "the initial state");
  if (lstm) check_shape(c0, {n, u}, op, "the initial cell state");
  check_shape(kernel, {f, g * u}, op, "the kernel");
  check_shape(recurrent_kernel, {u, g * u}, op, "the recurrent kernel");
  check_shape(bias, {(cell == RnnCell::gru ? 4 : g) * u}, op, "the bias");
  for (const Tensor* t : {&h0, &c0, &kernel, &recurrent_kernel, &bias}) {
    if (!t->defined()) continue;
    detail::check_same_dtype(x, *t, op);
    detail::check_same_device(x, *t, op);
  }
  if (!rnn_fused(cell, x))
    fail<DTypeError>(op, " has no fused kernel for ", dtype_name(x.dtype()), " on ", x.device().str(),
                     " (the recurrent layers compose their cell loop there)");

  backend::RnnTensors ts;
  ts.x = detail::contiguous_raw(x);
  ts.h0 = detail::contiguous_raw(h0);
  if (lstm) ts.c0 = detail::contiguous_raw(c0);
  ts.kernel = detail::contiguous_raw(kernel);
  ts.recurrent_kernel = detail::contiguous_raw(recurrent_kernel);
  ts.bias = detail::contiguous_raw(bias);
  ts.y = detail::alloc({n, t_len, u}, x.dtype(), x.device());
  ts.h_n = detail::alloc({n, u}, x.dtype(), x.device());
  if (lstm) ts.c_n = detail::alloc({n, u}, x.dtype(), x.device());
  const std::vector<Tensor> inputs{x, h0, c0, kernel, recurrent_kernel, bias};
  const bool training = autograd::needs_grad(inputs);
  Tensor workspace;
  if (t_len == 0) {  // nothing runs: the last states are the first
    ts.h_n.copy_(ts.h0);
    if (lstm) ts.c_n.copy_(ts.c0);
  } else {
    detail::kernel(&Kernels::rnn, x.device(), op)(cell, ts, training ? &workspace : nullptr);
  }
  std::vector<Tensor> outputs{ts.y, ts.h_n};
  if (lstm) outputs.push_back(ts.c_n);
  if (!training) return outputs;

  backend::RnnTensors saved;
  for (auto [to, from] : {std::pair{&saved.x, &ts.x}, {&saved.h0, &ts.h0}, {&saved.c0, &ts.c0},
                          {&saved.kernel, &ts.kernel}, {&saved.recurrent_kernel, &ts.recurrent_kernel},
                          {&saved.bias, &ts.bias}, {&saved.y, &ts.y}, {&saved.h_n, &ts.h_n}, {&saved.c_n, &ts.c_n}})
    *to = save(*from);
  return autograd::record_outputs(
      op, std::move(outputs), inputs, [cell, saved, workspace, op](const std::vector<Tensor>& grads) {
        const Tensor& x = saved.x;
        const bool lstm = cell == RnnCell::lstm;
        auto grad_or_zeros = [](const Tensor& g, const Tensor& like) {
          return g.defined() ? detail::contiguous_raw(g) : zeros(like.shape(), like.dtype(), like.device());
        };
        const Tensor dy = grad_or_zeros(grads[0], saved.y);
        const Tensor dh_n = grad_or_zeros(grads[1], saved.h_n);
        const Tensor dc_n = lstm ? grad_or_zeros(grads[2], saved.c_n) : Tensor();
        backend::RnnTensors d;
        d.x = detail::alloc(x.shape(), x.dtype(), x.device());
        d.h0 = detail::alloc(saved.h0.shape(), x.dtype(), x.device());
        if (lstm) d.c0 = detail::alloc(saved.c0.shape(), x.dtype(), x.device());
        d.kernel = detail::alloc(saved.kernel.shape(), x.dtype(), x.device());
        d.recurrent_kernel = detail::alloc(saved.recurrent_kernel.shape(), x.dtype(), x.device());
        d.bias = detail::alloc(saved.bias.shape(), x.dtype(), x.device());
        if (x.shape()[1] == 0) {  // no step ran: the states pass straight through
          d.x.fill_(0.0);
          d.h0.copy_(dh_n);
          if (lstm) d.c0.copy_(dc_n);
          d.kernel.fill_(0.0);
          d.recurrent_kernel.fill_(0.0);
          d.bias.fill_(0.0);
        } else {
          detail::kernel(&Kernels::rnn_backward, x.device(), op)(cell, saved, workspace, dy, dh_n, dc_n, d);
        }
        return std::vector<Tensor>{d.x, d.h0, d.c0, d.kernel, d.recurrent_kernel, d.bias};
      });
}

}  // namespace cortex
