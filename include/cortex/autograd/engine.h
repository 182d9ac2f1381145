// The backward engine: reverse topological walk of the tape (iterative, so
// graphs thousands of nodes deep, like unrolled RNNs, are fine).
#pragma once

#include "cortex/core/tensor.h"

namespace cortex::autograd {

// Same as root.backward(grad, retain_graph).
void backward(const Tensor& root, const Tensor& grad = Tensor(), bool retain_graph = false);

}  // namespace cortex::autograd
