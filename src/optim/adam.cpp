// Adam (with AMSGrad) and AdamW, Keras's formula (see adam.h).
#include "cortex/optim/adam.h"

#include <cmath>

#include "config_io.h"
#include "fused.h"
#include "cortex/ops/elementwise.h"

namespace cortex::optim {

namespace {

AdamOptions as_adam(const AdamWOptions& w) {
  return {.learning_rate = w.learning_rate, .beta_1 = w.beta_1, .beta_2 = w.beta_2, .epsilon = w.epsilon,
          .amsgrad = w.amsgrad, .weight_decay = w.weight_decay, .clipnorm = w.clipnorm,
          .clipvalue = w.clipvalue, .global_clipnorm = w.global_clipnorm};
}

const AdamWOptions& check_weight_decay(const AdamWOptions& w) {
  if (!w.weight_decay) fail<ValueError>("AdamW: weight_decay must be set (Keras's default is 0.004), got none");
  return w;
}

}  // namespace

Adam::Adam(const AdamOptions& options) : Adam("Adam", options) {}

Adam::Adam(std::string name, const AdamOptions& options)
    : Optimizer(std::move(name), common_options(options)), o_(options) {
  require(o_.beta_1 >= 0 && o_.beta_1 < 1, "beta_1", "in [0, 1)", o_.beta_1);
  require(o_.beta_2 >= 0 && o_.beta_2 < 1, "beta_2", "in [0, 1)", o_.beta_2);
  require(std::isfinite(o_.epsilon) && o_.epsilon >= 0, "epsilon", "finite and >= 0", o_.epsilon);
  add_slot("m");
  add_slot("v");
  if (o_.amsgrad) add_slot("v_hat");
}

void Adam::update_step(Tensor& param, const Tensor& grad, std::vector<Tensor>& slots, double lr) {
  const double t = static_cast<double>(iterations() + 1);
  const double alpha = lr * std::sqrt(1 - std::pow(o_.beta_2, t)) / (1 - std::pow(o_.beta_1, t));
  if (detail::fused_update({.kind = backend::OptimizerKind::adam, .lr = alpha, .beta_1 = o_.beta_1,
                            .beta_2 = o_.beta_2, .amsgrad = o_.amsgrad, .epsilon = o_.epsilon},
                           param, grad, slots))
    return;
  Tensor& m = slots[0];
  Tensor& v = slots[1];
  m = m + (grad - m) * (1 - o_.beta_1);
  v = v + (square(grad) - v) * (1 - o_.beta_2);
  if (o_.amsgrad) slots[2] = maximum(slots[2], v);
  const Tensor& second = o_.amsgrad ? slots[2] : v;
  param.copy_(param - m * alpha / (sqrt(second) + o_.epsilon));
}

void Adam::write_config(detail::ConfigWriter& out) const {
  out.config["beta_1"] = o_.beta_1;
  out.config["beta_2"] = o_.beta_2;
  out.config["epsilon"] = o_.epsilon;
  out.config["amsgrad"] = o_.amsgrad;
}

AdamW::AdamW(const AdamWOptions& options) : Adam("AdamW", as_adam(check_weight_decay(options))) {}

namespace {

template <class Options>
Options read_adam(detail::ConfigReader& in, Options o) {
  o = detail::read_common(in, o);
  o.beta_1 = in.number("beta_1", o.beta_1);
  o.beta_2 = in.number("beta_2", o.beta_2);
  o.epsilon = in.number("epsilon", o.epsilon);
  o.amsgrad = in.boolean("amsgrad", o.amsgrad);
  in.finish();
  return o;
}

}  // namespace

std::unique_ptr<Optimizer> detail::adam_from_config(ConfigReader& in) {
  return std::make_unique<Adam>(read_adam(in, AdamOptions{}));
}

std::unique_ptr<Optimizer> detail::adamw_from_config(ConfigReader& in) {
  return std::make_unique<AdamW>(read_adam(in, AdamWOptions{}));
}

}  // namespace cortex::optim
