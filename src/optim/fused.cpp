// Dispatch of the fused optimiser update (see fused.h).
#include "fused.h"

#include <atomic>

#include "cortex/optim/optimizer.h"

namespace cortex::optim::detail {

namespace {
std::atomic<bool> fused_on{true};
thread_local FusedGroup* active_group = nullptr;
}  // namespace

bool fused_update(const backend::OptimizerStep& step, Tensor& param, const Tensor& grad, std::vector<Tensor>& slots) {
  if (!fused_on.load(std::memory_order_relaxed)) return false;
  const backend::Kernels& row = backend::kernels(backend::backend_for(param.device()));
  if (row.optimizer_step == nullptr || !param.is_contiguous() || !grad.is_contiguous() ||
      grad.dtype() != param.dtype() || grad.device() != param.device())
    return false;
  for (const Tensor& s : slots)
    if (!s.is_contiguous() || s.device() != param.device()) return false;
  if (active_group != nullptr && row.optimizer_step_group != nullptr)
    active_group->add(step, param, grad, slots);
  else
    row.optimizer_step(step, param, grad, slots.data());
  // In-place writes: a graph that saved param (or a slot) must see that it changed.
  param.storage()->bump_version();
  for (Tensor& s : slots) s.storage()->bump_version();
  return true;
}

FusedGroup::FusedGroup() : previous_(active_group) { active_group = this; }
FusedGroup::~FusedGroup() { active_group = previous_; }

void FusedGroup::add(const backend::OptimizerStep& step, Tensor& param, const Tensor& grad,
                     std::vector<Tensor>& slots) {
  pending_.push_back({step, param, grad, &slots});
}

void FusedGroup::flush() {
  std::vector<Pending> todo;
  todo.swap(pending_);
  for (std::size_t begin = 0; begin < todo.size();) {
    const Pending& head = todo[begin];
    std::size_t end = begin + 1;
    while (end < todo.size() && todo[end].step == head.step &&
           todo[end].param.device() == head.param.device() && todo[end].param.dtype() == head.param.dtype())
      ++end;
    std::vector<Tensor> params, grads;
    std::vector<Tensor*> slots;
    for (std::size_t i = begin; i < end; ++i) {
      params.push_back(todo[i].param);
      grads.push_back(todo[i].grad);
      slots.push_back(todo[i].slots->data());
    }
    backend::kernels(backend::backend_for(head.param.device()))
        .optimizer_step_group(head.step, params.data(), grads.data(), slots.data(),
                              static_cast<std::int64_t>(params.size()));
    begin = end;
  }
}

}  // namespace cortex::optim::detail

namespace cortex::optim {
void set_fused_updates(bool on) { detail::fused_on.store(on, std::memory_order_relaxed); }
bool fused_updates() { return detail::fused_on.load(std::memory_order_relaxed); }
}  // namespace cortex::optim
