// SGD with optional momentum and Nesterov momentum (Keras's SGD).
//
// Keras: m = momentum * m - lr * g; p += m (Nesterov: p += momentum * m - lr * g).
// PyTorch keeps b = momentum * b + g and does p -= lr * b: the same numbers while
// the rate is fixed, different once a schedule changes it (Keras's m holds old
// rates). PyTorch's weight_decay is an L2 term added to g; ours is decoupled.
#pragma once

#include "cortex/optim/optimizer.h"

namespace cortex::optim {

struct SGDOptions {
  LearningRate learning_rate = 0.01;
  double momentum = 0.0;  // in [0, 1]
  bool nesterov = false;
  std::optional<double> weight_decay{}, clipnorm{}, clipvalue{}, global_clipnorm{};  // see CommonOptions
};

class SGD final : public Optimizer {
 public:
  explicit SGD(const SGDOptions& options = {});
  // Keras's positional form, SGD(1e-3): the learning rate (or a schedule), the rest defaults.
  explicit SGD(LearningRate learning_rate) : SGD(SGDOptions{.learning_rate = std::move(learning_rate)}) {}

 private:
  void update_step(Tensor& param, const Tensor& grad, std::vector<Tensor>& slots, double lr) override;
  void write_config(detail::ConfigWriter& out) const override;
  SGDOptions o_;
};

}  // namespace cortex::optim
