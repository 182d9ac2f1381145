// Adadelta, Keras's formula (see adadelta.h).
#include "cortex/optim/adadelta.h"

#include <cmath>

#include "config_io.h"
#include "fused.h"
#include "cortex/ops/elementwise.h"

namespace cortex::optim {

Adadelta::Adadelta(const AdadeltaOptions& options)
    : Optimizer("Adadelta", common_options(options)), o_(options) {
  require(o_.rho >= 0 && o_.rho <= 1, "rho", "in [0, 1]", o_.rho);
  require(std::isfinite(o_.epsilon) && o_.epsilon >= 0, "epsilon", "finite and >= 0", o_.epsilon);
  add_slot("accumulated_grad");
  add_slot("accumulated_delta_var");
}

void Adadelta::update_step(Tensor& param, const Tensor& grad, std::vector<Tensor>& slots, double lr) {
  const double rho = o_.rho, eps = o_.epsilon;
  if (detail::fused_update({.kind = backend::OptimizerKind::adadelta, .lr = lr, .rho = rho, .epsilon = eps}, param,
                           grad, slots))
    return;
  Tensor& acc_grad = slots[0];
  Tensor& acc_delta = slots[1];
  acc_grad = acc_grad * rho + square(grad) * (1 - rho);
  Tensor delta = -(sqrt(acc_delta + eps) * grad / sqrt(acc_grad + eps));
  acc_delta = acc_delta * rho + square(delta) * (1 - rho);
  param.copy_(param + delta * lr);
}

void Adadelta::write_config(detail::ConfigWriter& out) const {
  out.config["rho"] = o_.rho;
  out.config["epsilon"] = o_.epsilon;
}

std::unique_ptr<Optimizer> detail::adadelta_from_config(ConfigReader& in) {
  AdadeltaOptions o = read_common(in, AdadeltaOptions{});
  o.rho = in.number("rho", o.rho);
  o.epsilon = in.number("epsilon", o.epsilon);
  in.finish();
  return std::make_unique<Adadelta>(o);
}

}  // namespace cortex::optim
