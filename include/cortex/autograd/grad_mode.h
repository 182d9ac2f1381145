// Whether ops record gradients on this thread (NoGradGuard turns it off).
#pragma once

namespace cortex {

class GradMode {
 public:
  static bool is_enabled();
  static void set_enabled(bool enabled);
};

// RAII: sets whether ops record gradients while alive, restoring the previous setting.
template <bool Enabled>
class GradModeGuard {
 public:
  GradModeGuard() : previous_(GradMode::is_enabled()) { GradMode::set_enabled(Enabled); }
  ~GradModeGuard() { GradMode::set_enabled(previous_); }
  GradModeGuard(const GradModeGuard&) = delete;
  GradModeGuard& operator=(const GradModeGuard&) = delete;

 private:
  bool previous_;
};

// No op records a Node while alive (evaluation, MCTS, target networks).
using NoGradGuard = GradModeGuard<false>;
// Ops record again inside a no-grad region (saliency needs an input gradient anywhere).
using EnableGradGuard = GradModeGuard<true>;

}  // namespace cortex
