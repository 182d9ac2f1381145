// Losses. The softmax cross-entropies run one fused kernel per row (the loss,
// and the gradient softmax * sum(t) - t, which stays exact where exp would
// overflow) and record one node.
#include "cortex/ops/loss.h"

#include "cortex/autograd/grad_mode.h"
#include "cortex/ops/activation.h"
#include "cortex/ops/creation.h"
#include "cortex/ops/elementwise.h"
#include "cortex/ops/reduce.h"
#include "cortex/ops/shape_ops.h"
#include "op_util.h"

namespace cortex {
using autograd::record;
using autograd::save;

namespace {

Tensor reduce(const Tensor& per_sample, Reduction r) {
  switch (r) {
    case Reduction::none: return per_sample;
    case Reduction::sum: return sum(per_sample);
    case Reduction::mean: return mean(per_sample);
  }
  return per_sample;
}

// Keras's convention for element-wise losses: mean over the last axis per sample, then reduce.
Tensor reduce_per_sample(const Tensor& per_element, Reduction r) {
  return reduce(per_element.dim() == 0 ? per_element : mean(per_element, {-1}), r);
}

// Losses compute in f32 when given bf16 (autocast's activations), as PyTorch's
// do under autocast; the cast is recorded, so the gradient comes back in bf16.
Tensor in_f32(const Tensor& t) { return detail::to_f32_if_bf16(t); }

void check_logits(const Tensor& logits, const char* op) {
  detail::check_defined(logits, op, "the logits");
  detail::check_floating(logits, op);
  detail::check_rank(logits, 2, op, "(N, C) logits");
}

void check_same_shape(const Tensor& a, const Tensor& b, const char* op, const char* what) {
  detail::check_defined(b, op, what);
  if (a.shape() != b.shape())
    fail<ShapeError>(op, " expects ", what, " shaped like the predictions ", shape_str(a.shape()), ", got ",
                     shape_str(b.shape()));
}

// Per-row gradient weights for a reduced loss: g broadcast to (N, 1).
Tensor row_weights(const Tensor& g, std::int64_t n, Reduction r) {
  if (r == Reduction::none) return g.reshape({n, 1});
  Tensor w = g.reshape({1, 1}).expand({n, 1});
  return r == Reduction::mean ? w / static_cast<double>(n) : w;
}

}  // namespace

Tensor softmax_cross_entropy(const Tensor& logits_in, const Tensor& targets_in, Reduction r) {
  const Tensor logits = in_f32(logits_in);
  const Tensor targets = in_f32(targets_in);
  const char* op = "softmax_cross_entropy";
  check_logits(logits, op);
  check_same_shape(logits, targets, op, "targets");
  detail::check_same_dtype(logits, targets, op);
  detail::check_same_device(logits, targets, op);
  // One kernel gives each row's loss and, when the logits need it, the
  // gradient softmax * sum(t) - t, so the backward is one product.
  const std::int64_t n = logits.shape()[0];
  const bool nl = autograd::needs_grad({&logits}), nt = autograd::needs_grad({&targets});
  Tensor rows = detail::alloc({n}, logits.dtype(), logits.device());
  Tensor dl = nl ? detail::alloc(logits.shape(), logits.dtype(), logits.device()) : Tensor();
  detail::kernel(&Kernels::softmax_cross_entropy, logits.device(), op)(
      detail::contiguous_raw(logits), detail::contiguous_raw(targets), rows, nl ? &dl : nullptr);
  Tensor loss, ls;
  {
    NoGradGuard raw;
    loss = reduce(rows, r);
    if (nt) ls = log_softmax(logits, -1);  // the targets' gradient, rarely wanted
  }
  return record(op, loss, {logits, targets}, [=](const Tensor& g) -> std::vector<Tensor> {
    Tensor w = row_weights(g, n, r);
    return {nl ? dl * w : Tensor(), nt ? neg(ls) * w : Tensor()};
  });
}

Tensor sparse_softmax_cross_entropy(const Tensor& logits_in, const Tensor& labels, Reduction r) {
  const Tensor logits = in_f32(logits_in);
  const char* op = "sparse_softmax_cross_entropy";
  check_logits(logits, op);
  detail::check_defined(labels, op, "the labels");
  std::int64_t n = logits.shape()[0], c = logits.shape()[1];
  if (labels.dim() != 1 || labels.shape()[0] != n)
    fail<ShapeError>(op, " expects labels of shape [", n, "] for logits ", shape_str(logits.shape()), ", got ",
                     shape_str(labels.shape()));
  return softmax_cross_entropy(logits, one_hot(labels, c).to(logits.dtype()), r);  // one_hot checks the range
}

Tensor categorical_cross_entropy(const Tensor& probs_in, const Tensor& targets_in, Reduction r, double eps) {
  const Tensor probs = in_f32(probs_in);
  const Tensor targets = in_f32(targets_in);
  const char* op = "categorical_cross_entropy";
  check_logits(probs, op);
  check_same_shape(probs, targets, op, "targets");
  Tensor p = clamp(probs / sum(probs, {1}, true), eps, 1.0 - eps);
  return reduce(neg(sum(targets * log(p), {1})), r);
}

Tensor mse(const Tensor& pred_in, const Tensor& target_in, Reduction r) {
  const Tensor pred = in_f32(pred_in);
  const Tensor target = in_f32(target_in);
  detail::check_defined(pred, "mse", "the predictions");
  check_same_shape(pred, target, "mse", "targets");
  Tensor sq = square(pred - target);
  return reduce_per_sample(sq, r);
}

Tensor binary_cross_entropy(const Tensor& probs_in, const Tensor& targets_in, Reduction r, double eps) {
  const Tensor probs = in_f32(probs_in);
  const Tensor targets = in_f32(targets_in);
  detail::check_defined(probs, "binary_cross_entropy", "the probabilities");
  check_same_shape(probs, targets, "binary_cross_entropy", "targets");
  Tensor p = clamp(probs, eps, 1.0 - eps);
  Tensor per = neg(targets * log(p) + (1.0 - targets) * log(1.0 - p));
  return reduce_per_sample(per, r);
}

Tensor binary_cross_entropy_with_logits(const Tensor& logits_in, const Tensor& targets_in, Reduction r) {
  const Tensor logits = in_f32(logits_in);
  const Tensor targets = in_f32(targets_in);
  detail::check_defined(logits, "binary_cross_entropy_with_logits", "the logits");
  check_same_shape(logits, targets, "binary_cross_entropy_with_logits", "targets");
  // softplus(x) - x t; the softplus kernel is stable for any x and its
  // derivative gives sigmoid(x) - t exactly, with no kink at 0.
  Tensor per = softplus(logits) - logits * targets;
  return reduce_per_sample(per, r);
}

}  // namespace cortex
