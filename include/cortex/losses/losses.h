// Keras's losses by name. Each maps (y_true, y_pred) to the batch's mean loss;
// the cross-entropies can also start from logits, for a fused, stable gradient.
#pragma once

#include <string>

#include "cortex/core/tensor.h"

namespace cortex::losses {

// categorical_crossentropy, sparse_categorical_crossentropy, binary_crossentropy,
// mean_squared_error (mse), mean_absolute_error (mae), huber.
struct Loss {
  std::string name;      // canonical Keras name
  std::string fuses_with;  // the output activation it can absorb ("softmax", "sigmoid" or "")
};

Loss loss_by_name(const std::string& name);  // throws ValueError listing the names

// Mean loss of a batch. y_pred are the model's outputs (probabilities), or its
// logits when from_logits (only for a loss whose fuses_with matches the output).
Tensor compute(const Loss& loss, const Tensor& y_true, const Tensor& y_pred, bool from_logits = false);

Tensor mean_absolute_error(const Tensor& y_true, const Tensor& y_pred);
Tensor huber(const Tensor& y_true, const Tensor& y_pred, double delta = 1.0);

}  // namespace cortex::losses
