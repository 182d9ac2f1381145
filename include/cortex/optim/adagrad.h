// Adagrad (Keras's formula): a += g^2; p -= lr * g / sqrt(a + epsilon).
//
// PyTorch differs twice: epsilon is added outside the root (sqrt(a) + eps) and
// its accumulator starts at 0, where Keras's starts at 0.1.
#pragma once

#include "cortex/optim/optimizer.h"

namespace cortex::optim {

struct AdagradOptions {
  LearningRate learning_rate = 0.001;
  double initial_accumulator_value = 0.1;  // >= 0
  double epsilon = 1e-7;
  std::optional<double> weight_decay{}, clipnorm{}, clipvalue{}, global_clipnorm{};  // see CommonOptions
};

class Adagrad final : public Optimizer {
 public:
  explicit Adagrad(const AdagradOptions& options = {});
  // Keras's positional form, Adagrad(1e-3): the learning rate (or a schedule), the rest defaults.
  explicit Adagrad(LearningRate learning_rate)
      : Adagrad(AdagradOptions{.learning_rate = std::move(learning_rate)}) {}

 private:
  void update_step(Tensor& param, const Tensor& grad, std::vector<Tensor>& slots, double lr) override;
  void write_config(detail::ConfigWriter& out) const override;
  AdagradOptions o_;
};

}  // namespace cortex::optim
