// SGD with momentum and Nesterov momentum, Keras's formula (see sgd.h).
#include "cortex/optim/sgd.h"

#include "config_io.h"
#include "fused.h"
#include "cortex/ops/elementwise.h"

namespace cortex::optim {

SGD::SGD(const SGDOptions& options) : Optimizer("SGD", common_options(options)), o_(options) {
  require(o_.momentum >= 0 && o_.momentum <= 1, "momentum", "in [0, 1]", o_.momentum);
  if (o_.momentum != 0) add_slot("momentum");
}

void SGD::update_step(Tensor& param, const Tensor& grad, std::vector<Tensor>& slots, double lr) {
  if (detail::fused_update({.kind = backend::OptimizerKind::sgd, .lr = lr, .momentum = o_.momentum,
                            .nesterov = o_.nesterov},
                           param, grad, slots))
    return;
  if (o_.momentum == 0) {
    param.copy_(param - grad * lr);
    return;
  }
  Tensor& m = slots[0];
  m = m * o_.momentum - grad * lr;
  param.copy_(o_.nesterov ? param + (m * o_.momentum - grad * lr) : param + m);
}

void SGD::write_config(detail::ConfigWriter& out) const {
  out.config["momentum"] = o_.momentum;
  out.config["nesterov"] = o_.nesterov;
}

std::unique_ptr<Optimizer> detail::sgd_from_config(ConfigReader& in) {
  SGDOptions o = read_common(in, SGDOptions{});
  o.momentum = in.number("momentum", o.momentum);
  o.nesterov = in.boolean("nesterov", o.nesterov);
  in.finish();
  return std::make_unique<SGD>(o);
}

}  // namespace cortex::optim
