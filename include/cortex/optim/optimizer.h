// Optimizer: the base of every optimiser. Made from options before the model
// exists (Keras style) and given the parameters later by set_params; it clips
// gradients, applies decoupled weight decay, follows an LR schedule and saves
// its state for checkpoints and bit-exact resume.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cortex/core/tensor.h"
#include "cortex/optim/schedule.h"

namespace cortex::optim {

namespace detail { struct ConfigWriter; }

// Arguments every Keras optimizer takes; at most one of the three clips may be set.
// Every optimizer's options struct repeats these fields (designated initialisers
// cannot name a base's members) and hands them over with common_options().
struct CommonOptions {
  LearningRate learning_rate = 0.001;
  std::optional<double> weight_decay{};   // decoupled (Keras 3): p -= p * weight_decay * lr before each update
  std::optional<double> clipnorm{};       // each gradient scaled to L2 norm <= clipnorm
  std::optional<double> clipvalue{};      // each gradient element clamped to [-clipvalue, clipvalue]
  std::optional<double> global_clipnorm{};  // all gradients scaled together to global L2 norm <= this
};

template <class Options>
CommonOptions common_options(const Options& o) {
  return {o.learning_rate, o.weight_decay, o.clipnorm, o.clipvalue, o.global_clipnorm};
}

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // Keras's class name ("Adam", "SGD", ...); make_optimizer accepts it in any case.
  const std::string& name() const { return name_; }

  // The leaf tensors to train (Model::compile calls this). Slots restart from
  // their initial values; the iteration count is kept, as in Keras.
  void set_params(std::vector<Tensor> params);
  const std::vector<Tensor>& params() const { return params_; }

  // One update of every parameter that has a gradient (the others are skipped
  // and keep their slots); then iterations() grows by one.
  void step();
  void zero_grad();  // drops every parameter's gradient

  // The rate of the next update: the schedule's value at iterations(), or the fixed rate.
  double learning_rate() const;
  // Fixed rates only (ReduceLROnPlateau uses it); with a schedule it throws, as Keras does.
  void set_learning_rate(double value);
  const std::shared_ptr<const LearningRateSchedule>& schedule() const { return schedule_; }
  std::int64_t iterations() const { return iterations_; }

  // "iterations" (i64 scalar), "learning_rate" (f64 scalar), then each slot of
  // each parameter as "<slot>.<param index>", e.g. "m.0", "m.1", "v.0", "v.1".
  // The tensors are never written in place afterwards, so they are a snapshot.
  NamedTensors state() const;
  // Restores state() after set_params. Checks everything before changing
  // anything: a missing or unexpected entry, or a wrong shape, throws. With a
  // schedule the saved "learning_rate" is ignored (the rate follows iterations).
  void load_state(const NamedTensors& state);
  // The slot names of this optimizer, in state() order ("m", "v").
  const std::vector<std::string>& slot_names() const { return slot_names_; }

  // {"class_name": "Adam", "config": {"learning_rate": ..., "beta_1": ...}};
  // optimizer_from_config reads it back. The rate is the current one.
  std::string config_json() const;

 protected:
  Optimizer(std::string name, const CommonOptions& options);

  // Declares a per-parameter slot (Keras's optimizer variable) filled with `initial`.
  void add_slot(std::string name, double initial = 0.0);
  // Updates `param` in place (copy_) from `grad` (clipped, in param's dtype) at
  // rate `lr`. `slots` are this parameter's slots in add_slot order: assign new
  // tensors to them, never write into them (state() hands them out).
  virtual void update_step(Tensor& param, const Tensor& grad, std::vector<Tensor>& slots, double lr) = 0;
  // Adds this optimizer's own hyperparameters to the config.
  virtual void write_config(detail::ConfigWriter& out) const = 0;
  // Throws cortex::ValueError "<name>: <what> must be <rule>, got <value>" unless ok.
  void require(bool ok, const char* what, const char* rule, double value) const;

 private:
  void clip_gradients(std::vector<Tensor>& grads) const;

  std::string name_;
  double learning_rate_;
  std::shared_ptr<const LearningRateSchedule> schedule_;
  std::optional<double> weight_decay_, clipnorm_, clipvalue_, global_clipnorm_;
  std::int64_t iterations_ = 0;
  bool built_ = false;
  std::vector<Tensor> params_;
  std::vector<std::string> slot_names_;
  std::vector<double> slot_initial_;
  std::vector<std::vector<Tensor>> slots_;  // slots_[param][slot]
};

// Rebuilds an optimizer from config_json() (or from a bare name in quotes:
// "\"adam\""). Unknown keys or names throw cortex::ValueError.
std::unique_ptr<Optimizer> optimizer_from_config(const std::string& json);
// For the command line (`--optimizer adam --lr 0.001`): the named optimizer with
// Keras's defaults and this rate; the name is case-insensitive. Unknown names
// throw cortex::ValueError listing the valid ones.
std::unique_ptr<Optimizer> make_optimizer(const std::string& name, double learning_rate);
std::unique_ptr<Optimizer> make_optimizer(const std::string& name);  // the default rate too
// "sgd, adadelta, adagrad, rmsprop, adam, adamw"
std::vector<std::string> optimizer_names();

// Fused updates (SGD, Adadelta, Adam/AdamW: one pass over each parameter and its
// slots where the backend has the kernel) are on by default; switched off,
// every optimiser composes its update of tensor ops, as tests compare.
void set_fused_updates(bool on);
bool fused_updates();

}  // namespace cortex::optim
