// The fused optimiser update: used when the parameter's backend has an
// optimizer_step kernel and every tensor is contiguous; otherwise the
// optimiser runs its update composed of tensor ops.
#pragma once

#include <vector>

#include "cortex/backends/kernels.h"
#include "cortex/core/tensor.h"

namespace cortex::optim::detail {

// True when the update was done (param and slots written in place), or, inside
// a FusedGroup on a backend with a group kernel, queued for the group's flush.
bool fused_update(const backend::OptimizerStep& step, Tensor& param, const Tensor& grad, std::vector<Tensor>& slots);

// One optimiser step's fused updates, collected while this object is alive on
// this thread and applied by flush() in one optimizer_step_group call per run
// of parameters that share a step, device and dtype (one kernel launch for the
// whole group on CUDA, instead of one per parameter).
class FusedGroup {
 public:
  FusedGroup();
  ~FusedGroup();  // stops collecting; updates not flushed are dropped (an exception came first)
  FusedGroup(const FusedGroup&) = delete;
  FusedGroup& operator=(const FusedGroup&) = delete;

  void add(const backend::OptimizerStep& step, Tensor& param, const Tensor& grad, std::vector<Tensor>& slots);
  void flush();

 private:
  struct Pending {
    backend::OptimizerStep step;
    Tensor param, grad;
    std::vector<Tensor>* slots;
  };
  std::vector<Pending> pending_;
  FusedGroup* previous_;
};

}  // namespace cortex::optim::detail
