// Module: named parameters, buffers and children in insertion order, train /
// eval mode, dotted state dicts, and Keras's lazy build from the first input.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cortex/core/generator.h"
#include "cortex/core/tensor.h"

namespace cortex::nn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// One call of a layer with what travels with it (Keras's layer.__call__): the
// inputs, a mask per input (undefined: none; masks over time steps are (N, T)
// bool, true where the step is real), and the states a recurrent layer starts from.
struct Call {
  std::vector<Tensor> inputs;
  std::vector<Tensor> masks = {};
  std::vector<Tensor> initial_state = {};
};

// What a call gives back: its outputs (a recurrent layer with return_state
// adds its final states) and a mask per output (undefined: none).
struct Outputs {
  std::vector<Tensor> tensors;
  std::vector<Tensor> masks = {};
};

class Symbolic;   // cortex/nn/functional.h
class Symbolics;

class Module : public std::enable_shared_from_this<Module> {
 public:
  explicit Module(std::string type);
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  Module(Module&&) = default;  // layers are built as values, then moved into containers
  Module& operator=(Module&&) = default;

  // Builds on the first call (parameters sized from x), then runs forward.
  // The first output of call({x}).
  Tensor operator()(const Tensor& x);
  virtual Tensor forward(const Tensor& x) = 0;
  // The many-in / many-out call: checks the first input, builds from it, runs
  // call_impl and the forward hooks. Every path into a layer goes through here.
  Outputs call(const Call& c);
  // Called on symbolic tensors, a layer adds a call to a graph (Keras's
  // functional API, cortex/nn/functional.h). A layer held by a std::shared_ptr
  // is called as itself (call it twice: one set of weights); a temporary,
  // `Dense({...})(x)`, is moved into the graph by its config.
  Symbolic operator()(const Symbolic& x) &;
  Symbolic operator()(const Symbolic& x) &&;
  Symbolics operator()(const std::vector<Symbolic>& xs) &;
  Symbolics operator()(const std::vector<Symbolic>& xs) &&;
  // Whether a one-in / one-out layer keeps the time steps, so that the input's mask holds for its output.
  virtual bool supports_masking() const { return false; }

  // The layer's class name ("Dense") and its instance name ("dense_1").
  const std::string& type() const { return type_; }
  const std::string& name() const { return name_; }
  // Gives the layer its name; a container keeps a given name and names the
  // others uniquely (Keras's "dense", "dense_1", ...).
  void set_name(std::string name) {
    name_ = std::move(name);
    named_ = true;
  }
  bool has_given_name() const { return named_; }

  bool built() const { return built_; }
  // Builds for inputs of `input_shape` (batch axis included) if not built yet.
  void build(const Shape& input_shape);

  // Parameters and buffers of this module and its children, dotted names.
  NamedTensors named_parameters() const;
  std::vector<Tensor> parameters() const;
  NamedTensors named_buffers() const;
  NamedTensors state_dict() const;  // parameters then buffers
  // Copies values in by name; strict: every name must match both ways, shapes equal.
  // Everything is checked before anything is copied: a state that does not fit
  // throws and leaves the module as it was.
  void load_state_dict(const NamedTensors& state, bool strict = true);
  // load_state_dict's checks alone: throws what it would throw, copies nothing.
  void check_state_dict(const NamedTensors& state, bool strict = true) const;

  void train(bool on = true);
  void eval() { train(false); }
  // Forgets the states that stateful recurrent layers carry from one call to
  // the next (Keras's reset_states), in this module and its children.
  virtual void reset_states();
  bool is_training() const { return training_; }

  // The generator used for initialisation and dropout: the root's, shared by children.
  void set_generator(std::shared_ptr<Generator> gen);
  Generator& generator();

  // Moves every parameter and buffer of this module and its children to
  // `device` in place: each keeps its name, requires_grad and identity, so
  // every handle on it (a layer's, an optimizer's) sees the moved tensor.
  // Layers built later draw their weights on the host with generator() as
  // on the CPU, then move them here. Throws DeviceError for a missing GPU.
  Module& to(Device device);
  Device device() const { return device_; }

  // Sum of the regularisation penalties of this module and its children
  // (an undefined tensor when there are none).
  virtual Tensor regularization_loss() const;

  // Keras-style options of the layer as a JSON object (for saving a model).
  virtual std::string config_json() const { return "{}"; }

  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const { return children_; }
  // This module and every descendant, depth first in registration order.
  std::vector<Module*> modules();
  // The module named `name` (its name(), "conv2d_1") among modules(); a
  // cortex::ValueError naming `name` and listing the names that exist otherwise.
  Module& find(const std::string& name);

  // Called as hook(module, input, output) after each forward through operator()
  // (PyTorch's register_forward_hook): how feature maps are read from inside a
  // network; the probe that builds a lazy Sequential is a forward too.
  // Returns an id for remove_forward_hook.
  using ForwardHook = std::function<void(const Module&, const Tensor& input, const Tensor& output)>;
  int add_forward_hook(ForwardHook hook);
  void remove_forward_hook(int id);
  std::size_t forward_hook_count() const { return hooks_.size(); }

 protected:
  // The layer's work for one call. By default: one input, no initial state,
  // y = forward(x); a mask on the input passes to the output when
  // supports_masking(), and is an error otherwise (Keras's rule: a layer that
  // cannot honour a mask must not silently drop it).
  virtual Outputs call_impl(const Call& c);
  // Creates the parameters for inputs of `input_shape`; called once.
  virtual void build_impl(const Shape& input_shape) {}
  // Checks the input before forward; layers name themselves in the error.
  virtual void check_input(const Tensor& x) const {}

  Tensor& register_parameter(const std::string& name, Tensor value);
  Tensor& register_buffer(const std::string& name, Tensor value);
  void register_module(const std::string& name, std::shared_ptr<Module> child);
  Tensor& parameter(const std::string& name);
  Tensor& buffer(const std::string& name);
  void mark_built() { built_ = true; }

 private:
  void collect(const std::string& prefix, bool params, bool buffers, NamedTensors& out) const;

  std::string type_;
  std::string name_;
  bool named_ = false;
  bool built_ = false;
  bool training_ = true;
  Device device_ = Device::cpu();
  std::shared_ptr<Generator> gen_;
  NamedTensors params_;
  NamedTensors buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  std::map<int, ForwardHook> hooks_;
  int next_hook_ = 0;
};

// The error for a mask given to a layer that cannot honour it.
[[noreturn]] void fail_unsupported_mask(const Module& m);

}  // namespace cortex::nn
