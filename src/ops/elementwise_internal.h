// The two building blocks behind every element-wise op and activation.
#pragma once

#include "op_util.h"

namespace cortex::detail {

// y = op(x), recorded with the backend's hand-written derivative.
Tensor unary(backend::UnaryOp op, const Tensor& x, backend::UnaryParams p = {});

// a op b with broadcasting, unrecorded (the ops add their own rule).
Tensor binary_raw(backend::BinaryOp op, const Tensor& a, const Tensor& b, const char* name);

}  // namespace cortex::detail
