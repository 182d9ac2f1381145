// Adagrad, Keras's formula (see adagrad.h).
#include "cortex/optim/adagrad.h"

#include <cmath>

#include "config_io.h"
#include "cortex/ops/elementwise.h"

namespace cortex::optim {

Adagrad::Adagrad(const AdagradOptions& options) : Optimizer("Adagrad", common_options(options)), o_(options) {
  require(std::isfinite(o_.initial_accumulator_value) && o_.initial_accumulator_value >= 0,
          "initial_accumulator_value", "finite and >= 0", o_.initial_accumulator_value);
  require(std::isfinite(o_.epsilon) && o_.epsilon >= 0, "epsilon", "finite and >= 0", o_.epsilon);
  add_slot("accumulator", o_.initial_accumulator_value);
}

void Adagrad::update_step(Tensor& param, const Tensor& grad, std::vector<Tensor>& slots, double lr) {
  Tensor& acc = slots[0];
  acc = acc + square(grad);
  param.copy_(param - grad * lr / sqrt(acc + o_.epsilon));
}

void Adagrad::write_config(detail::ConfigWriter& out) const {
  out.config["initial_accumulator_value"] = o_.initial_accumulator_value;
  out.config["epsilon"] = o_.epsilon;
}

std::unique_ptr<Optimizer> detail::adagrad_from_config(ConfigReader& in) {
  AdagradOptions o = read_common(in, AdagradOptions{});
  o.initial_accumulator_value = in.number("initial_accumulator_value", o.initial_accumulator_value);
  o.epsilon = in.number("epsilon", o.epsilon);
  in.finish();
  return std::make_unique<Adagrad>(o);
}

}  // namespace cortex::optim
