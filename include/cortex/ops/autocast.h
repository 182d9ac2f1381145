// Mixed precision, PyTorch's autocast: while an AutocastScope is alive on this
// thread, matmul, linear, conv2d and conv_transpose2d run their f32 CUDA
// operands in bf16 on the tensor cores (fp32 accumulation) and hand back f32
// results. Everything else -- activations, softmax, losses, the optimiser and
// the master weights -- stays f32; gradients flow back through the casts.
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
