// Matrix products (oneDNN matmul on the cpu backend).
#pragma once

#include "cortex/core/tensor.h"

namespace cortex {

// numpy matmul: 1-D operands are promoted and squeezed, batch axes broadcast.
// a: (..., M, K), b: (..., K, N) -> (..., M, N)
Tensor matmul(const Tensor& a, const Tensor& b);

// x @ w + b with Keras's layout. x: (..., in), w: (in, out), b: (out) or undefined.
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b = Tensor());

}  // namespace cortex
