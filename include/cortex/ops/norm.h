// Batch normalisation over every axis but the last (channels), as Keras's
// BatchNormalization layer does.
#pragma once

#include "cortex/core/tensor.h"

namespace cortex {

struct BatchNormOptions {
  bool training = true;    // batch statistics (and moving averages updated) or the moving averages
  double momentum = 0.99;  // Keras: moving = moving * momentum + batch * (1 - momentum)
  double epsilon = 1e-3;
};

// x: (..., C); gamma, beta: (C) or undefined (1 and 0); moving_mean,
// moving_var: (C), updated in place in training (biased batch variance, as
// Keras's). Returns (x - mean) / sqrt(var + epsilon) * gamma + beta, with
// gradients for x, gamma and beta. A bf16 x (autocast's activations) is
// normalised in f32.
Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& moving_mean, Tensor& moving_var,
                  const BatchNormOptions& options = {});

}  // namespace cortex
