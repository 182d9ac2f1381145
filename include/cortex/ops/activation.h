// Activations. Each has a hand-written derivative in the backends.
#pragma once

#include "cortex/core/tensor.h"

namespace cortex {

Tensor relu(const Tensor& x);
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
Tensor elu(const Tensor& x, double alpha = 1.0);
Tensor selu(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor gelu(const Tensor& x);  // exact (erf) form
Tensor softplus(const Tensor& x);
Tensor silu(const Tensor& x);
inline Tensor swish(const Tensor& x) { return silu(x); }

Tensor softmax(const Tensor& x, std::int64_t axis = -1);
Tensor log_softmax(const Tensor& x, std::int64_t axis = -1);

}  // namespace cortex
