// RMSprop with momentum and centring, Keras's formula (see rmsprop.h).
#include "cortex/optim/rmsprop.h"

#include <cmath>

#include "config_io.h"
#include "cortex/ops/elementwise.h"

namespace cortex::optim {

RMSprop::RMSprop(const RMSpropOptions& options) : Optimizer("RMSprop", common_options(options)), o_(options) {
  require(o_.rho >= 0 && o_.rho <= 1, "rho", "in [0, 1]", o_.rho);
  require(o_.momentum >= 0 && o_.momentum <= 1, "momentum", "in [0, 1]", o_.momentum);
  require(std::isfinite(o_.epsilon) && o_.epsilon >= 0, "epsilon", "finite and >= 0", o_.epsilon);
  add_slot("velocity");
  if (o_.momentum > 0) add_slot("momentum");
  if (o_.centered) add_slot("average_gradient");
}

void RMSprop::update_step(Tensor& param, const Tensor& grad, std::vector<Tensor>& slots, double lr) {
  const double rho = o_.rho;
  Tensor& velocity = slots[0];
  velocity = velocity * rho + square(grad) * (1 - rho);
  Tensor denominator;
  if (o_.centered) {
    Tensor& average = slots.back();
    average = average * rho + grad * (1 - rho);
    denominator = velocity - square(average) + o_.epsilon;
  } else {
    denominator = velocity + o_.epsilon;
  }
  Tensor increment = grad * lr / sqrt(denominator);
  if (o_.momentum > 0) {
    Tensor& m = slots[1];
    m = m * o_.momentum + increment;
    param.copy_(param - m);
  } else {
    param.copy_(param - increment);
  }
}

void RMSprop::write_config(detail::ConfigWriter& out) const {
  out.config["rho"] = o_.rho;
  out.config["momentum"] = o_.momentum;
  out.config["epsilon"] = o_.epsilon;
  out.config["centered"] = o_.centered;
}

std::unique_ptr<Optimizer> detail::rmsprop_from_config(ConfigReader& in) {
  RMSpropOptions o = read_common(in, RMSpropOptions{});
  o.rho = in.number("rho", o.rho);
  o.momentum = in.number("momentum", o.momentum);
  o.epsilon = in.number("epsilon", o.epsilon);
  o.centered = in.boolean("centered", o.centered);
  in.finish();
  return std::make_unique<RMSprop>(o);
}

}  // namespace cortex::optim
