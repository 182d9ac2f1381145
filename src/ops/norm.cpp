// Batch normalisation: one kernel each way in training (oneDNN on the cpu
// backend, cuDNN on CUDA); the moving averages are updated here, from the batch
// statistics the kernel returns. In evaluation the forward is the kernel and
// the backward (rarely wanted: frozen statistics) is composed of tensor ops.
#include "cortex/ops/norm.h"

#include "cortex/autograd/grad_mode.h"
#include "cortex/ops/elementwise.h"
#include "cortex/ops/reduce.h"
#include "op_util.h"

namespace cortex {
using autograd::record;
using autograd::save;

namespace {

void check_channel(const Tensor& t, const Tensor& x, std::int64_t channels, const char* what) {
  if (!t.defined()) return;
  detail::check_same_dtype(x, t, "batch_norm");
  detail::check_same_device(x, t, "batch_norm");
  if (t.dim() != 1 || t.shape()[0] != channels)
    fail<ShapeError>("batch_norm expects ", what, " of shape [", channels, "] for x ", shape_str(x.shape()), ", got ",
                     shape_str(t.shape()));
}

const Tensor* maybe(const Tensor& t) { return t.defined() ? &t : nullptr; }

}  // namespace

Tensor batch_norm(const Tensor& x_in, const Tensor& gamma, const Tensor& beta, Tensor& moving_mean, Tensor& moving_var,
                  const BatchNormOptions& o) {
  const char* op = "batch_norm";
  detail::check_defined(x_in, op, "the input");
  const Tensor x = detail::to_f32_if_bf16(x_in);  // statistics in f32
  detail::check_floating(x, op);
  if (x.dim() < 2 || x.shape().back() < 1)
    fail<ShapeError>(op, " expects x of shape (batch, ..., channels), got ", shape_str(x.shape()));
  if (!(o.momentum >= 0.0 && o.momentum <= 1.0)) fail<ValueError>(op, " expects momentum in [0, 1], got ", o.momentum);
  if (!(o.epsilon > 0.0)) fail<ValueError>(op, " expects epsilon > 0, got ", o.epsilon);
  const std::int64_t channels = x.shape().back();
  if (o.training && x.numel() == 0)
    fail<ShapeError>(op, " in training needs at least one row for the batch statistics, got x ", shape_str(x.shape()));
  check_channel(gamma, x, channels, "gamma");
  check_channel(beta, x, channels, "beta");
  detail::check_defined(moving_mean, op, "the moving mean");
  detail::check_defined(moving_var, op, "the moving variance");
  check_channel(moving_mean, x, channels, "the moving mean");
  check_channel(moving_var, x, channels, "the moving variance");

  const Tensor xc = detail::contiguous_raw(x);
  const Tensor gc = gamma.defined() ? detail::contiguous_raw(gamma) : Tensor();
  const Tensor bc = beta.defined() ? detail::contiguous_raw(beta) : Tensor();
  Tensor mean, var, workspace;
  if (o.training) {
    mean = detail::alloc({channels}, x.dtype(), x.device());
    var = detail::alloc({channels}, x.dtype(), x.device());
  } else if (autograd::needs_grad({&x, &gamma, &beta})) {  // copies: the backward must see these statistics
    mean = moving_mean.detach().clone();
    var = moving_var.detach().clone();
  } else {
    mean = detail::contiguous_raw(moving_mean.detach());
    var = detail::contiguous_raw(moving_var.detach());
  }
  Tensor y = detail::alloc(x.shape(), x.dtype(), x.device());
  detail::kernel(&Kernels::batch_norm, x.device(), op)(xc, maybe(gc), maybe(bc), o.training, o.epsilon, mean, var, y,
                                                       o.training ? &workspace : nullptr);
  if (o.training) {
    NoGradGuard no_grad;
    moving_mean.copy_(moving_mean * o.momentum + mean * (1.0 - o.momentum));
    moving_var.copy_(moving_var * o.momentum + var * (1.0 - o.momentum));
  }

  const bool training = o.training;
  const double eps = o.epsilon;
  const bool ng = gamma.defined() && gamma.requires_grad(), nb = beta.defined() && beta.requires_grad();
  const Tensor xs = save(xc), gs = save(gc);
  return record(op, y, {x, gamma, beta}, [=](const Tensor& g_in) -> std::vector<Tensor> {
    const Tensor g = detail::contiguous_raw(g_in);
    Tensor dx, dgamma, dbeta;
    if (training) {
      dx = detail::alloc(xs.shape(), xs.dtype(), xs.device());
      if (ng) dgamma = detail::alloc({channels}, xs.dtype(), xs.device());
      if (nb) dbeta = detail::alloc({channels}, xs.dtype(), xs.device());
      detail::kernel(&Kernels::batch_norm_backward, xs.device(), "batch_norm backward")(
          xs, g, maybe(gs), mean, var, eps, workspace, dx, ng ? &dgamma : nullptr, nb ? &dbeta : nullptr);
      return {dx, dgamma, dbeta};
    }
    // Evaluation: the statistics are constants, so y is affine in x.
    const Tensor invstd = rsqrt(var + eps);
    const Tensor rows = g.reshape({-1, channels});
    dx = g * (gs.defined() ? gs * invstd : invstd);
    if (ng) dgamma = sum(rows * ((xs.reshape({-1, channels}) - mean) * invstd), {0});
    if (nb) dbeta = sum(rows, {0});
    return {dx, dgamma, dbeta};
  });
}

}  // namespace cortex
