// Mixed precision, PyTorch's autocast: while an AutocastScope is alive on this
// thread, matmul, linear, conv2d and conv_transpose2d run their f32 CUDA
// operands (weights and biases included) in bf16 on the tensor cores (fp32
// accumulation) and hand back bf16 -- a convolution whose kernel channels are
// not multiples of 8 (a first layer on 1 or 3 input channels) stays f32, since
// the tensor cores cannot take it. The activations that follow (relu, pooling,
// dropout, reshapes) stay in bf16; softmax, log_softmax, the losses and
// batch_norm take their bf16 inputs in f32 (batch_norm's output is f32); a
// bf16 tensor meeting an f32 one in an element-wise
// op is promoted to f32. The master weights and the optimiser stay f32:
// gradients flow back through the casts, so each weight's gradient is f32.
// CPU tensors are left alone (bf16 on the CPU needs AVX-512 and is not built yet).
#pragma once

#include "cortex/core/dtype.h"

namespace cortex {

class AutocastScope {
 public:
  explicit AutocastScope(bool enabled = true);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool previous_;
};

bool autocast_enabled();

}  // namespace cortex
