// Module bookkeeping: registration, dotted names, state dicts, modes.
#include "cortex/nn/module.h"

#include "cortex/nn/sequential.h"

#include <algorithm>
#include <unordered_map>

#include "cortex/autograd/grad_mode.h"
#include "cortex/core/profiler.h"
#include "cortex/backends/kernels.h"
#include "cortex/ops/elementwise.h"

namespace cortex::nn {
namespace {

// Points t's TensorImpl at a copy of its data on `device` (PyTorch's
// `param.data = param.data.to(device)`), so every handle on t sees the move;
// its gradient, if any, moves along.
void move_in_place(Tensor& t, Device device) {
  if (t.device() == device) return;
  NoGradGuard no_grad;
  Tensor moved = t.detach().contiguous().to(device);
  Tensor grad = t.grad();
  TensorImpl& impl = *t.impl();
  impl.storage = moved.storage();
  impl.strides = moved.strides();
  impl.offset = moved.offset();
  if (grad.defined()) t.set_grad(grad.to(device));
}

}  // namespace

Module::Module(std::string type) : type_(std::move(type)), name_(snake_case(type_)) {}

Tensor Module::operator()(const Tensor& x) { return call({.inputs = {x}}).tensors.at(0); }

Outputs Module::call(const Call& c) {
  if (c.inputs.empty()) fail<ValueError>(type_, " '", name_, "' was called without inputs");
  for (const Tensor& x : c.inputs)
    if (!x.defined()) fail<ValueError>(type_, " '", name_, "' got an undefined input tensor");
  if (!c.masks.empty() && c.masks.size() != c.inputs.size())
    fail<ValueError>(type_, " '", name_, "' expects one mask per input (", c.inputs.size(), "), got ", c.masks.size());
  const Tensor& x = c.inputs[0];
  check_input(x);
  build(x.shape());
  profiler::Scope scope(profiler::enabled() ? name_ + " forward" : std::string());
  Outputs out = call_impl(c);
  if (out.tensors.empty()) fail<ValueError>(type_, " '", name_, "' returned no outputs");
  out.masks.resize(out.tensors.size());
  for (const auto& [id, hook] : hooks_) hook(*this, x, out.tensors[0]);
  return out;
}

void fail_unsupported_mask(const Module& m) {
  fail<ValueError>(m.type(), " '", m.name(), "' does not support masking, but its input carries a mask (from an "
                   "Embedding with mask_zero or a Masking layer before it); put a layer that consumes the mask "
                   "(a recurrent layer) in between");
}

Outputs Module::call_impl(const Call& c) {
  if (c.inputs.size() != 1)
    fail<ValueError>(type_, " '", name_, "' takes one input, got ", c.inputs.size());
  if (!c.initial_state.empty())
    fail<ValueError>(type_, " '", name_, "' takes no initial state, got ", c.initial_state.size());
  const Tensor mask = c.masks.empty() ? Tensor() : c.masks[0];
  if (mask.defined() && !supports_masking()) fail_unsupported_mask(*this);
  return {{forward(c.inputs[0])}, {mask}};
}

int Module::add_forward_hook(ForwardHook hook) {
  hooks_.emplace(next_hook_, std::move(hook));
  return next_hook_++;
}

void Module::remove_forward_hook(int id) { hooks_.erase(id); }

std::vector<Module*> Module::modules() {
  std::vector<Module*> out{this};
  for (auto& [name, child] : children_) {
    auto below = child->modules();
    out.insert(out.end(), below.begin(), below.end());
  }
  return out;
}

Module& Module::find(const std::string& name) {
  std::string names;
  for (Module* m : modules()) {
    if (m->name() == name) return *m;
    if (!m->name().empty()) names += (names.empty() ? "" : ", ") + m->name();
  }
  fail<ValueError>("no layer named '", name, "'; the layers are: ", names.empty() ? "(none)" : names);
}

void Module::build(const Shape& input_shape) {
  if (built_) return;
  build_impl(input_shape);
  built_ = true;
}

Tensor& Module::register_parameter(const std::string& name, Tensor value) {
  if (value.device() != device_) value = value.detach().to(device_);
  value.set_requires_grad(true);
  params_.emplace_back(name, std::move(value));
  return params_.back().second;
}

Tensor& Module::register_buffer(const std::string& name, Tensor value) {
  if (value.device() != device_) value = value.detach().to(device_);
  buffers_.emplace_back(name, std::move(value));
  return buffers_.back().second;
}

void Module::register_module(const std::string& name, std::shared_ptr<Module> child) {
  if (!child) fail<ValueError>(type_, " cannot register a null module as '", name, "'");
  if (gen_) child->set_generator(gen_);
  child->train(training_);
  child->to(device_);
  children_.emplace_back(name, std::move(child));
}

Tensor& Module::parameter(const std::string& name) {
  for (auto& [n, t] : params_)
    if (n == name) return t;
  fail<ValueError>(type_, " has no parameter '", name, "'");
}

Tensor& Module::buffer(const std::string& name) {
  for (auto& [n, t] : buffers_)
    if (n == name) return t;
  fail<ValueError>(type_, " has no buffer '", name, "'");
}

void Module::collect(const std::string& prefix, bool params, bool buffers, NamedTensors& out) const {
  if (params)
    for (const auto& [n, t] : params_) out.emplace_back(prefix + n, t);
  if (buffers)
    for (const auto& [n, t] : buffers_) out.emplace_back(prefix + n, t);
  for (const auto& [n, c] : children_) c->collect(prefix + n + ".", params, buffers, out);
}

NamedTensors Module::named_parameters() const {
  NamedTensors out;
  collect("", true, false, out);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [n, t] : named_parameters()) out.push_back(t);
  return out;
}

NamedTensors Module::named_buffers() const {
  NamedTensors out;
  collect("", false, true, out);
  return out;
}

NamedTensors Module::state_dict() const {
  NamedTensors out = named_parameters();
  for (auto& nt : named_buffers()) out.push_back(nt);
  return out;
}

namespace {

// state's tensors paired with the module's by name, every check done: (target, source).
std::vector<std::pair<Tensor, const Tensor*>> matched(const Module& m, const NamedTensors& state, bool strict) {
  std::unordered_map<std::string, const Tensor*> given;
  for (const auto& [n, t] : state) given[n] = &t;
  std::vector<std::pair<Tensor, const Tensor*>> copies;
  const NamedTensors ours = m.state_dict();
  for (const auto& [name, target] : ours) {
    auto it = given.find(name);
    if (it == given.end()) {
      if (strict) fail<ValueError>(m.type(), " load_state_dict: missing '", name, "'");
      continue;
    }
    const Tensor& src = *it->second;
    if (src.shape() != target.shape())
      fail<ShapeError>(m.type(), " load_state_dict: '", name, "' expects shape ", shape_str(target.shape()), ", got ",
                       shape_str(src.shape()));
    copies.emplace_back(target, &src);
  }
  if (strict && copies.size() != given.size())
    for (const auto& [n, t] : state)
      if (std::none_of(ours.begin(), ours.end(), [&](const auto& o) { return o.first == n; }))
        fail<ValueError>(m.type(), " load_state_dict: unexpected '", n, "'");
  return copies;
}

}  // namespace

void Module::check_state_dict(const NamedTensors& state, bool strict) const { matched(*this, state, strict); }

void Module::load_state_dict(const NamedTensors& state, bool strict) {
  const auto copies = matched(*this, state, strict);  // all checked before anything is copied
  NoGradGuard no_grad;
  for (auto [target, src] : copies) target.copy_(src->to(target.dtype()));
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [n, c] : children_) c->train(on);
}

void Module::reset_states() {
  for (auto& [n, c] : children_) c->reset_states();
}

void Module::set_generator(std::shared_ptr<Generator> gen) {
  gen_ = gen;
  for (auto& [n, c] : children_) c->set_generator(gen);
}

Generator& Module::generator() {
  if (!gen_) gen_ = std::make_shared<Generator>(0);
  return *gen_;
}

Module& Module::to(Device device) {
  if (device.is_cuda() && !backend::cuda_available())
    fail<DeviceError>(type_, " '", name_, "' cannot move to ", device.str(),
                      ": no CUDA device is available (that needs a build with the cuda preset and an NVIDIA GPU)");
  device_ = device;
  for (auto& [n, t] : params_) move_in_place(t, device);
  for (auto& [n, t] : buffers_) move_in_place(t, device);
  for (auto& [n, c] : children_) c->to(device);
  return *this;
}

Tensor Module::regularization_loss() const {
  Tensor total;
  for (const auto& [n, c] : children_) {
    Tensor r = c->regularization_loss();
    if (r.defined()) total = total.defined() ? total + r : r;
  }
  return total;
}

}  // namespace cortex::nn
