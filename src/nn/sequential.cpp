// Sequential: running layers in order, naming them and printing the summary.
#include "cortex/nn/sequential.h"

#include "cortex/nn/functional.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <sstream>

#include "cortex/autograd/grad_mode.h"
#include "cortex/nn/layers.h"
#include "cortex/ops/creation.h"
#include "summary_table.h"

namespace cortex::nn {

std::string snake_case(const std::string& type) {
  std::string out;
  for (std::size_t i = 0; i < type.size(); ++i) {
    char c = type[i];
    if (std::isupper(static_cast<unsigned char>(c))) {
      bool after_lower = i > 0 && std::islower(static_cast<unsigned char>(type[i - 1]));
      if (after_lower) out += '_';
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else {
      out += c;
    }
  }
  return out;
}

Sequential::Sequential(std::initializer_list<Layer> layers) : Module("Sequential") {
  for (const Layer& l : layers) add(l);
}

void Sequential::add(Layer layer) {
  if (layer.input) {
    if (!layers_.empty())
      fail<ValueError>("Sequential: Input", shape_str(*layer.input), " must come before the first layer");
    set_input_shape(*layer.input);
    return;
  }
  auto taken = [&](const std::string& name) {
    return std::any_of(layers_.begin(), layers_.end(), [&](const auto& l) { return l->name() == name; });
  };
  Module& m = *layer.module;
  if (std::any_of(layers_.begin(), layers_.end(), [&](const auto& l) { return l.get() == &m; }))
    fail<ValueError>("Sequential: layer '", m.name(), "' is already in this model; a Sequential runs each layer once");
  if (m.has_given_name()) {
    if (taken(m.name()))
      fail<ValueError>("Sequential: two layers are named '", m.name(), "'; layer names must be unique in a model");
  } else {  // Keras's names: "dense", then "dense_1", "dense_2", ...
    m.set_name(detail::unique_name(snake_case(m.type()), taken));
  }
  // Children are named by their layer: parameters read "dense_1.kernel".
  register_module(m.name(), layer.module);
  layers_.push_back(layer.module);
}

void Sequential::set_input_shape(Shape shape) {
  for (auto d : shape)
    if (d < 1) fail<ValueError>("Input expects positive sizes, got ", shape_str(shape));
  input_shape_ = std::move(shape);
}

void Sequential::build_impl(const Shape& input_shape) {
  if (layers_.empty()) fail<ValueError>("Sequential has no layers to build");
  if (input_shape.empty())
    fail<ShapeError>("Sequential expects a batch (batch, ...) of rank >= 1, got a rank-0 input");
  // One sample in evaluation mode sizes every layer without drawing random
  // numbers or touching batch-norm statistics.
  NoGradGuard no_grad;
  bool was_training = is_training();
  eval();
  Shape probe = input_shape;
  probe[0] = 1;
  run(zeros(probe, DType::f32, device()), layers_.size());
  reset_states();  // the probe's states are nobody's
  train(was_training);
}

void Sequential::check_input(const Tensor& x) const {
  if (!input_shape_) return;
  Shape expected{x.dim() > 0 ? x.shape()[0] : 0};
  expected.insert(expected.end(), input_shape_->begin(), input_shape_->end());
  if (x.shape() != expected) {
    std::string want = "(batch";
    for (auto d : *input_shape_) want += ", " + std::to_string(d);
    fail<ShapeError>("Sequential expects inputs of shape ", want, "), got ", shape_str(x.shape()));
  }
}

Outputs Sequential::run(const Tensor& x, std::size_t count) {
  Outputs y{{x}, {Tensor()}};
  for (std::size_t i = 0; i < count; ++i) {
    y = layers_[i]->call({.inputs = {y.tensors[0]}, .masks = {y.masks[0]}});
    if (y.tensors.size() != 1)
      fail<ValueError>("Sequential: layer '", layers_[i]->name(), "' returns ", y.tensors.size(),
                       " tensors (return_state?); a Sequential passes one tensor from layer to layer: use the "
                       "functional Model for layers with several outputs");
  }
  return y;
}

Tensor Sequential::forward(const Tensor& x) { return run(x, layers_.size()).tensors[0]; }

NamedTensors Sequential::named_by_position(const NamedTensors& state) const {
  NamedTensors out;
  out.reserve(state.size());
  for (const auto& [name, t] : state) {
    const auto dot = name.find('.');
    const std::string head = name.substr(0, dot);
    const bool index = !head.empty() && dot != std::string::npos &&
                       std::all_of(head.begin(), head.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (index && head.size() < 10 && std::stoul(head) < layers_.size())
      out.emplace_back(layers_[std::stoul(head)]->name() + name.substr(dot), t);
    else
      out.emplace_back(name, t);
  }
  return out;
}

std::string Sequential::final_activation() const {
  if (layers_.empty()) return "";
  auto* a = dynamic_cast<Activated*>(layers_.back().get());
  return a ? a->activation() : "";
}

Tensor Sequential::forward_logits(const Tensor& x) {
  auto* last = layers_.empty() ? nullptr : dynamic_cast<Activated*>(layers_.back().get());
  if (last == nullptr) return (*this)(x);
  check_input(x);
  build(x.shape());
  Outputs y = run(x, layers_.size() - 1);
  if (y.masks[0].defined() && !last->supports_masking())
    fail_unsupported_mask(*last);
  return last->call_linear(y.tensors[0]);
}

using detail::pad;
using detail::with_commas;

std::string Sequential::summary(const std::string& model_name) {
  if (!input_shape_ && !built())
    fail<ValueError>("summary needs the input shape: start the Sequential with Input({...}) or call it once");
  if (!built()) {
    Shape s{1};
    s.insert(s.end(), input_shape_->begin(), input_shape_->end());
    build(s);
  }
  std::ostringstream out;
  std::string line(65, '_'), thick(65, '=');
  out << "Model: \"" << model_name << "\"\n" << line << "\n";
  out << pad(" Layer (type)", 29) << pad("Output Shape", 26) << "Param #\n" << thick << "\n";
  std::int64_t trainable = 0, frozen = 0;
  NoGradGuard no_grad;
  bool was_training = is_training();
  eval();
  Shape probe{1};
  if (input_shape_) probe.insert(probe.end(), input_shape_->begin(), input_shape_->end());
  Tensor x = input_shape_ ? zeros(probe, DType::f32, device()) : Tensor();
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    auto& l = layers_[i];
    std::string shape = "?";
    if (x.defined()) {
      x = (*l)(x);
      shape = shape_text(Shape(x.shape().begin() + 1, x.shape().end()));
    }
    std::int64_t n = 0, nb = 0;
    for (auto& [name, t] : l->named_parameters()) n += t.numel();
    for (auto& [name, t] : l->named_buffers()) nb += t.numel();
    trainable += n;
    frozen += nb;
    out << pad(" " + l->name() + " (" + l->type() + ")", 29) << pad(shape, 26) << with_commas(n + nb) << "\n";
    if (i + 1 < layers_.size()) out << "\n";
  }
  reset_states();  // the probe's states are nobody's
  train(was_training);
  out << thick << "\n";
  out << "Total params: " << with_commas(trainable + frozen) << "\n";
  out << "Trainable params: " << with_commas(trainable) << "\n";
  out << "Non-trainable params: " << with_commas(frozen) << "\n" << line << "\n";
  return out.str();
}

}  // namespace cortex::nn
