// The Optimizer base: parameters, slots, clipping (Keras semantics), decoupled
// weight decay, the learning rate or schedule, and checkpoint state.
#include "cortex/optim/optimizer.h"

#include <cmath>
#include <map>
#include <set>

#include "config_io.h"
#include "fused.h"
#include "cortex/autograd/grad_mode.h"
#include "cortex/ops/creation.h"
#include "cortex/ops/elementwise.h"
#include "cortex/ops/reduce.h"

namespace cortex::optim {

namespace {

bool valid_rate(double lr) { return std::isfinite(lr) && lr >= 0; }

std::string text(const std::optional<double>& v) { return v ? cortex::detail::cat(*v) : std::string("none"); }

// Keras's _clip_by_norm: g * clip / max(||g||, clip), so g (up to rounding) when ||g|| <= clip.
Tensor clip_by_norm(const Tensor& g, double clip) {
  Tensor norm = sqrt(sum(square(g)));
  return g * clip / maximum(norm, scalar(clip, norm.dtype(), norm.device()));
}

}  // namespace

Optimizer::Optimizer(std::string name, const CommonOptions& options)
    : name_(std::move(name)),
      learning_rate_(options.learning_rate.value()),
      schedule_(options.learning_rate.schedule()),
      weight_decay_(options.weight_decay),
      clipnorm_(options.clipnorm),
      clipvalue_(options.clipvalue),
      global_clipnorm_(options.global_clipnorm) {
  if (!schedule_) require(valid_rate(learning_rate_), "learning_rate", "finite and >= 0", learning_rate_);
  if (weight_decay_)
    require(std::isfinite(*weight_decay_) && *weight_decay_ >= 0, "weight_decay", "finite and >= 0", *weight_decay_);
  for (auto [what, value] : {std::pair{"clipnorm", clipnorm_}, std::pair{"clipvalue", clipvalue_},
                             std::pair{"global_clipnorm", global_clipnorm_}})
    if (value) require(std::isfinite(*value) && *value > 0, what, "finite and > 0", *value);
  if (int(clipnorm_.has_value()) + int(clipvalue_.has_value()) + int(global_clipnorm_.has_value()) > 1)
    fail<ValueError>(name_, ": only one of clipnorm, clipvalue and global_clipnorm can be set, got clipnorm=",
                     text(clipnorm_), ", clipvalue=", text(clipvalue_), ", global_clipnorm=", text(global_clipnorm_));
}

void Optimizer::require(bool ok, const char* what, const char* rule, double value) const {
  if (!ok) fail<ValueError>(name_, ": ", what, " must be ", rule, ", got ", value);
}

void Optimizer::add_slot(std::string name, double initial) {
  slot_names_.push_back(std::move(name));
  slot_initial_.push_back(initial);
}

void Optimizer::set_params(std::vector<Tensor> params) {
  std::set<const TensorImpl*> seen;
  for (std::size_t i = 0; i < params.size(); ++i) {
    const Tensor& p = params[i];
    if (!p.defined()) fail<ValueError>(name_, ".set_params: parameter ", i, " is an undefined tensor");
    if (!is_floating(p.dtype()))
      fail<DTypeError>(name_, ".set_params: parameter ", i, " must be floating point, got ", dtype_name(p.dtype()));
    if (!p.is_leaf() || !p.requires_grad())
      fail<ValueError>(name_, ".set_params: parameter ", i, " (shape ", shape_str(p.shape()),
                       ") must be a leaf tensor that requires grad");
    if (!seen.insert(p.impl()).second)
      fail<ValueError>(name_, ".set_params: parameter ", i, " appears twice (it would be updated twice per step)");
  }
  std::vector<std::vector<Tensor>> slots(params.size());
  for (std::size_t i = 0; i < params.size(); ++i)
    for (double initial : slot_initial_) slots[i].push_back(full_like(params[i].detach(), initial));
  params_ = std::move(params);
  slots_ = std::move(slots);
  built_ = true;
}

double Optimizer::learning_rate() const {
  if (!schedule_) return learning_rate_;
  double lr = (*schedule_)(iterations_);
  if (!valid_rate(lr))
    fail<ValueError>(name_, ": the ", schedule_->name(), " schedule gave learning rate ", lr, " at step ",
                     iterations_, "; expected a finite value >= 0");
  return lr;
}

void Optimizer::set_learning_rate(double value) {
  if (schedule_)
    fail<ValueError>(name_, " was made with a ", schedule_->name(),
                     " schedule as its learning_rate, so its learning rate cannot be set; "
                     "make it with a number to use ReduceLROnPlateau");
  require(valid_rate(value), "learning_rate", "finite and >= 0", value);
  learning_rate_ = value;
}

void Optimizer::zero_grad() {
  for (auto& p : params_) p.zero_grad();
}

void Optimizer::clip_gradients(std::vector<Tensor>& grads) const {
  if (clipnorm_) {
    for (auto& g : grads)
      if (g.defined()) g = clip_by_norm(g, *clipnorm_);
  } else if (global_clipnorm_) {
    // Keras's clip_by_global_norm; the (norm - norm) term turns the scale into
    // NaN when the norm is not finite, so a bad step is not silently hidden.
    Tensor squares;  // sum of every gradient's squares, in the first gradient's dtype
    for (const auto& g : grads) {
      if (!g.defined()) continue;
      Tensor s = sum(square(g));
      squares = squares.defined() ? squares + s.to(squares.dtype()) : s;
    }
    Tensor norm = sqrt(squares);
    double clip = *global_clipnorm_;
    Tensor scale = clip * minimum(1.0 / norm, scalar(1.0 / clip, norm.dtype(), norm.device())) + (norm - norm);
    for (auto& g : grads)
      if (g.defined()) g = g * scale.to(g.dtype());
  } else if (clipvalue_) {
    for (auto& g : grads)
      if (g.defined()) g = clamp(g, -*clipvalue_, *clipvalue_);
  }
}

void Optimizer::step() {
  if (!built_) fail<Error>(name_, ".step: no parameters yet; call set_params (Model::compile does) first");
  if (params_.empty()) return;
  NoGradGuard no_grad;
  std::vector<Tensor> grads(params_.size());
  bool any = false;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    Tensor g = params_[i].grad();
    if (!g.defined()) continue;  // set_grad and the engine keep a gradient's shape its parameter's
    grads[i] = g.to(params_[i].dtype());
    any = true;
  }
  if (!any) fail<ValueError>(name_, ".step: none of the ", params_.size(), " parameters has a gradient; "
                             "call backward() on the loss first");
  clip_gradients(grads);
  double lr = learning_rate();
  detail::FusedGroup group;  // fused updates of this step go to the backend together
  try {
    for (std::size_t i = 0; i < params_.size(); ++i) {
      if (!grads[i].defined()) continue;
      Tensor& p = params_[i];
      if (weight_decay_) p.copy_(p - p * *weight_decay_ * lr);
      update_step(p, grads[i], slots_[i], lr);
    }
  } catch (...) {  // the parameters before the failing one are updated, as without the group
    try {
      group.flush();
    } catch (...) {
    }
    throw;
  }
  group.flush();
  ++iterations_;
}

NamedTensors Optimizer::state() const {
  NamedTensors out;
  out.emplace_back("iterations", scalar(static_cast<double>(iterations_), DType::i64));
  out.emplace_back("learning_rate", scalar(learning_rate(), DType::f64));
  for (std::size_t k = 0; k < slot_names_.size(); ++k)
    for (std::size_t i = 0; i < slots_.size(); ++i)
      out.emplace_back(slot_names_[k] + "." + std::to_string(i), slots_[i][k].clone());  // a snapshot: fused updates write slots in place
  return out;
}

void Optimizer::load_state(const NamedTensors& state) {
  if (!built_) fail<Error>(name_, ".load_state: call set_params (Model::compile does) first, so that the "
                           "slot shapes can be checked");
  std::string expected = "iterations, learning_rate";
  for (const auto& s : slot_names_)
    if (!params_.empty())
      expected += ", " + s + ".0" + (params_.size() > 1 ? ".." + s + "." + std::to_string(params_.size() - 1) : "");
  std::map<std::string, Tensor> given;
  for (const auto& [key, t] : state) {
    if (!t.defined()) fail<ValueError>(name_, ".load_state: entry '", key, "' is an undefined tensor");
    if (!given.emplace(key, t).second) fail<ValueError>(name_, ".load_state: entry '", key, "' appears twice");
  }
  auto take = [&](const std::string& key) {
    auto it = given.find(key);
    if (it == given.end())
      fail<ValueError>(name_, ".load_state: missing entry '", key, "'; ", name_, " with ", params_.size(),
                       " parameters expects ", expected);
    Tensor t = it->second;
    given.erase(it);
    return t;
  };
  auto one_number = [&](const std::string& key) {
    Tensor t = take(key);
    if (t.numel() != 1)
      fail<ShapeError>(name_, ".load_state: '", key, "' must hold one number, got shape ", shape_str(t.shape()));
    return t.item();
  };
  double iterations = one_number("iterations");
  // Below 2^53, where doubles still count every step (inf would pass the other two tests).
  if (!(iterations >= 0) || std::floor(iterations) != iterations || iterations >= 9007199254740992.0)
    fail<ValueError>(name_, ".load_state: 'iterations' must be a whole number in [0, 2^53), got ", iterations);
  double lr = one_number("learning_rate");
  if (!schedule_) require(valid_rate(lr), "the saved learning_rate", "finite and >= 0", lr);
  std::vector<std::vector<Tensor>> slots(params_.size(), std::vector<Tensor>(slot_names_.size()));
  for (std::size_t k = 0; k < slot_names_.size(); ++k)
    for (std::size_t i = 0; i < params_.size(); ++i) {
      std::string key = slot_names_[k] + "." + std::to_string(i);
      Tensor t = take(key);
      const Tensor& p = params_[i];
      if (t.shape() != p.shape())
        fail<ShapeError>(name_, ".load_state: '", key, "' has shape ", shape_str(t.shape()), " but parameter ", i,
                         " has shape ", shape_str(p.shape()));
      slots[i][k] = t.detach().to(p.dtype()).to(p.device()).contiguous().clone();
    }
  if (!given.empty()) {
    std::string extra;
    for (const auto& [key, t] : given) extra += (extra.empty() ? "'" : ", '") + key + "'";
    fail<ValueError>(name_, ".load_state: unexpected entries ", extra, " (another optimizer's state?); ", name_,
                     " expects ", expected);
  }
  iterations_ = static_cast<std::int64_t>(iterations);
  if (!schedule_) learning_rate_ = lr;
  slots_ = std::move(slots);
}

std::string Optimizer::config_json() const {
  detail::ConfigWriter out;
  out.config["learning_rate"] = schedule_ ? detail::parse_json(schedule_->config_json(), "schedule config")
                                          : nlohmann::json(learning_rate_);
  out.config["weight_decay"] = detail::optional_json(weight_decay_);
  out.config["clipnorm"] = detail::optional_json(clipnorm_);
  out.config["clipvalue"] = detail::optional_json(clipvalue_);
  out.config["global_clipnorm"] = detail::optional_json(global_clipnorm_);
  write_config(out);
  return nlohmann::json{{"class_name", name_}, {"config", out.config}}.dump();
}

}  // namespace cortex::optim
