// RMSprop with optional momentum and centring (Keras's formula).
//
//   v = rho * v + (1 - rho) * g^2
//   centered: a = rho * a + (1 - rho) * g; den = v - a^2 + eps, else den = v + eps
//   inc = lr * g / sqrt(den)
//   momentum: m = momentum * m + inc; p -= m, else p -= inc
// PyTorch adds epsilon outside the root (sqrt(v) + eps) and keeps lr out of its
// momentum buffer (the same numbers while the rate is fixed).
#pragma once

#include "cortex/optim/optimizer.h"

namespace cortex::optim {

struct RMSpropOptions {
  LearningRate learning_rate = 0.001;
  double rho = 0.9;       // in [0, 1]
  double momentum = 0.0;  // in [0, 1]
  double epsilon = 1e-7;
  bool centered = false;
  std::optional<double> weight_decay{}, clipnorm{}, clipvalue{}, global_clipnorm{};  // see CommonOptions
};

class RMSprop final : public Optimizer {
 public:
  explicit RMSprop(const RMSpropOptions& options = {});
  // Keras's positional form, RMSprop(1e-3): the learning rate (or a schedule), the rest defaults.
  explicit RMSprop(LearningRate learning_rate)
      : RMSprop(RMSpropOptions{.learning_rate = std::move(learning_rate)}) {}

 private:
  void update_step(Tensor& param, const Tensor& grad, std::vector<Tensor>& slots, double lr) override;
  void write_config(detail::ConfigWriter& out) const override;
  RMSpropOptions o_;
};

}  // namespace cortex::optim
