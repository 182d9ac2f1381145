// The fused optimiser update: used when the parameter's backend has an
// optimizer_step kernel and every tensor is contiguous; otherwise the
// optimiser runs its update composed of tensor ops.
#pragma once

#include <vector>

#include "cortex/backends/kernels.h"
#include "cortex/core/tensor.h"

namespace cortex::optim::detail {

// True when the update was done (param and slots written in place).
bool fused_update(const backend::OptimizerStep& step, Tensor& param, const Tensor& grad, std::vector<Tensor>& slots);

}  // namespace cortex::optim::detail
