// Keras's losses by name, built on the fused ops of ops/loss.h.
#include "cortex/losses/losses.h"

#include <cmath>

#include "cortex/ops/creation.h"
#include "cortex/ops/elementwise.h"
#include "cortex/ops/loss.h"
#include "cortex/ops/reduce.h"
#include "cortex/ops/shape_ops.h"

namespace cortex::losses {

Loss loss_by_name(const std::string& name) {
  if (name == "categorical_crossentropy") return {name, "softmax"};
  if (name == "sparse_categorical_crossentropy") return {name, "softmax"};
  if (name == "binary_crossentropy") return {name, "sigmoid"};
  if (name == "mse" || name == "mean_squared_error") return {"mean_squared_error", ""};
  if (name == "mae" || name == "mean_absolute_error") return {"mean_absolute_error", ""};
  if (name == "huber") return {"huber", ""};
  fail<ValueError>("unknown loss '", name,
                   "'; expected categorical_crossentropy, sparse_categorical_crossentropy, binary_crossentropy, "
                   "mean_squared_error (mse), mean_absolute_error (mae) or huber");
}

Tensor mean_absolute_error(const Tensor& y_true, const Tensor& y_pred) {
  if (y_true.shape() != y_pred.shape())
    fail<ShapeError>("mean_absolute_error expects targets shaped like the predictions ", shape_str(y_pred.shape()),
                     ", got ", shape_str(y_true.shape()));
  return mean(abs(y_pred - y_true));
}

Tensor huber(const Tensor& y_true, const Tensor& y_pred, double delta) {
  if (y_true.shape() != y_pred.shape())
    fail<ShapeError>("huber expects targets shaped like the predictions ", shape_str(y_pred.shape()), ", got ",
                     shape_str(y_true.shape()));
  Tensor err = abs(y_pred - y_true);
  if (!(delta > 0) || !std::isfinite(delta))
    fail<ValueError>("huber expects a finite delta > 0, got ", delta);
  Tensor quadratic = minimum(err, full_like(err, delta));
  return mean(square(quadratic) * 0.5 + (err - quadratic) * delta);
}

Tensor compute(const Loss& loss, const Tensor& y_true, const Tensor& y_pred, bool from_logits) {
  const std::string& n = loss.name;
  // Sequences (N, T, ..., C): every step is a row; the mean over rows is Keras's
  // mean over steps, then over samples.
  if (y_pred.dim() > 2 && (n == "categorical_crossentropy" || n == "sparse_categorical_crossentropy")) {
    const std::int64_t c = y_pred.shape().back();
    Shape labels = y_pred.shape();
    labels.pop_back();
    const bool sparse = n == "sparse_categorical_crossentropy";
    const bool fits = sparse ? y_true.shape() == labels || (y_true.dim() == y_pred.dim() && y_true.shape().back() == 1 &&
                                                             y_true.numel() * c == y_pred.numel())
                             : y_true.shape() == y_pred.shape();
    if (!fits)
      fail<ShapeError>(n, " expects targets of shape ", shape_str(sparse ? labels : y_pred.shape()),
                       " for predictions ", shape_str(y_pred.shape()), ", got ", shape_str(y_true.shape()));
    return compute(loss, sparse ? y_true.reshape({-1}) : y_true.reshape({-1, c}), y_pred.reshape({-1, c}), from_logits);
  }
  if (n == "categorical_crossentropy")
    return from_logits ? softmax_cross_entropy(y_pred, y_true.to(y_pred.dtype()))
                       : categorical_cross_entropy(y_pred, y_true.to(y_pred.dtype()));
  if (n == "sparse_categorical_crossentropy") {
    if (y_pred.dim() != 2)
      fail<ShapeError>("sparse_categorical_crossentropy expects predictions of shape (N, classes), got ",
                       shape_str(y_pred.shape()));
    Tensor labels = y_true.dim() == 2 && y_true.shape()[1] == 1 ? y_true.reshape({-1}) : y_true;
    if (is_floating(labels.dtype())) labels = labels.to(DType::i64);
    if (from_logits) return sparse_softmax_cross_entropy(y_pred, labels);
    return categorical_cross_entropy(y_pred, one_hot(labels, y_pred.shape()[1]).to(y_pred.dtype()));
  }
  if (n == "binary_crossentropy")
    return from_logits ? binary_cross_entropy_with_logits(y_pred, y_true.to(y_pred.dtype()))
                       : binary_cross_entropy(y_pred, y_true.to(y_pred.dtype()));
  if (n == "mean_squared_error") return mse(y_pred, y_true.to(y_pred.dtype()));
  if (n == "mean_absolute_error") return mean_absolute_error(y_true.to(y_pred.dtype()), y_pred);
  if (n == "huber") return huber(y_true.to(y_pred.dtype()), y_pred);
  fail<ValueError>("unknown loss '", n, "'");
}

}  // namespace cortex::losses
