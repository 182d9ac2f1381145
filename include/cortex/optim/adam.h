// Adam (optionally AMSGrad) and AdamW, with Keras's formula:
//
//   m = m + (g - m) * (1 - beta_1);  v = v + (g^2 - v) * (1 - beta_2)
//   amsgrad: v_hat = max(v_hat, v), used in place of v
//   p -= lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon)
// with t = iterations + 1 (Keras's epsilon is "epsilon hat" in Kingma and Ba).
// PyTorch divides by sqrt(v) / sqrt(1 - beta_2^t) + eps, which is this formula
// with epsilon = eps * sqrt(1 - beta_2^t); it also counts t per parameter (a
// parameter skipped for lack of a gradient lags), Keras and we per optimizer.
// PyTorch's Adam weight_decay is an L2 term added to g; ours is decoupled, as in
// Keras 3, which makes Adam with weight_decay the same as AdamW.
#pragma once

#include "cortex/optim/optimizer.h"

namespace cortex::optim {

struct AdamOptions {
  LearningRate learning_rate = 0.001;
  double beta_1 = 0.9;    // in [0, 1)
  double beta_2 = 0.999;  // in [0, 1)
  double epsilon = 1e-7;
  bool amsgrad = false;
  std::optional<double> weight_decay{}, clipnorm{}, clipvalue{}, global_clipnorm{};  // see CommonOptions
};

class Adam : public Optimizer {
 public:
  explicit Adam(const AdamOptions& options = {});
  // Keras's positional form, Adam(1e-3): the learning rate (or a schedule), the rest defaults.
  explicit Adam(LearningRate learning_rate) : Adam(AdamOptions{.learning_rate = std::move(learning_rate)}) {}

 protected:
  Adam(std::string name, const AdamOptions& options);

 private:
  void update_step(Tensor& param, const Tensor& grad, std::vector<Tensor>& slots, double lr) override;
  void write_config(detail::ConfigWriter& out) const override;
  AdamOptions o_;
};

// Adam with decoupled weight decay (p -= p * weight_decay * lr before each update),
// the same as PyTorch's AdamW apart from Adam's epsilon; weight_decay is required.
struct AdamWOptions {
  LearningRate learning_rate = 0.001;
  std::optional<double> weight_decay = 0.004;
  double beta_1 = 0.9;
  double beta_2 = 0.999;
  double epsilon = 1e-7;
  bool amsgrad = false;
  std::optional<double> clipnorm{}, clipvalue{}, global_clipnorm{};  // see CommonOptions
};

class AdamW final : public Adam {
 public:
  explicit AdamW(const AdamWOptions& options = {});
  explicit AdamW(LearningRate learning_rate) : AdamW(AdamWOptions{.learning_rate = std::move(learning_rate)}) {}
};

}  // namespace cortex::optim
