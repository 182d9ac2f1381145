// Adadelta (Keras's formula, which is also PyTorch's: epsilon inside both roots).
//
//   a = rho * a + (1 - rho) * g^2
//   d = -sqrt(a_delta + eps) / sqrt(a + eps) * g
//   a_delta = rho * a_delta + (1 - rho) * d^2
//   p += lr * d
#pragma once

#include "cortex/optim/optimizer.h"

namespace cortex::optim {

struct AdadeltaOptions {
  // 1.0 as in Keras 2 (the lecture's Keras) and PyTorch; Keras 3 changed its
  // default to 0.001, with which Adadelta barely moves in 12 epochs.
  LearningRate learning_rate = 1.0;
  double rho = 0.95;  // in [0, 1]
  double epsilon = 1e-7;
  std::optional<double> weight_decay{}, clipnorm{}, clipvalue{}, global_clipnorm{};  // see CommonOptions
};

class Adadelta final : public Optimizer {
 public:
  explicit Adadelta(const AdadeltaOptions& options = {});
  // Keras's positional form, Adadelta(1e-3): the learning rate (or a schedule), the rest defaults.
  explicit Adadelta(LearningRate learning_rate)
      : Adadelta(AdadeltaOptions{.learning_rate = std::move(learning_rate)}) {}

 private:
  void update_step(Tensor& param, const Tensor& grad, std::vector<Tensor>& slots, double lr) override;
  void write_config(detail::ConfigWriter& out) const override;
  AdadeltaOptions o_;
};

}  // namespace cortex::optim
