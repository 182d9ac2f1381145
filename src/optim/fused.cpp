// Dispatch of the fused optimiser update (see fused.h).
#include "fused.h"

#include <atomic>

#include "cortex/optim/optimizer.h"

namespace cortex::optim::detail {

namespace {
std::atomic<bool> fused_on{true};
}  // namespace

bool fused_update(const backend::OptimizerStep& step, Tensor& param, const Tensor& grad, std::vector<Tensor>& slots) {
  if (!fused_on.load(std::memory_order_relaxed)) return false;
  const auto kernel = backend::kernels(backend::backend_for(param.device())).optimizer_step;
  if (kernel == nullptr || !param.is_contiguous() || !grad.is_contiguous() || grad.dtype() != param.dtype() ||
      grad.device() != param.device())
    return false;
  for (const Tensor& s : slots)
    if (!s.is_contiguous() || s.device() != param.device()) return false;
  kernel(step, param, grad, slots.data());
  // In-place writes: a graph that saved param (or a slot) must see that it changed.
  param.storage()->bump_version();
  for (Tensor& s : slots) s.storage()->bump_version();
  return true;
}

}  // namespace cortex::optim::detail

namespace cortex::optim {
void set_fused_updates(bool on) { detail::fused_on.store(on, std::memory_order_relaxed); }
bool fused_updates() { return detail::fused_on.load(std::memory_order_relaxed); }
}  // namespace cortex::optim
