// Sequential: layers applied in order, Keras-named, with a Keras summary table.
#pragma once

#include <concepts>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cortex/nn/functional.h"
#include "cortex/nn/module.h"

namespace cortex::nn {


// One entry of a Sequential: a layer (moved in, or shared) or an Input spec.
struct Layer {
  template <typename L>
    requires std::derived_from<std::decay_t<L>, Module>
  Layer(L&& layer) : module(std::make_shared<std::decay_t<L>>(std::forward<L>(layer))) {}
  template <typename L>
    requires std::derived_from<L, Module>
  Layer(std::shared_ptr<L> layer) : module(std::move(layer)) {}
  Layer(const Input& in) : input(in.shape()) {}

  std::shared_ptr<Module> module;
  std::optional<Shape> input;
};

class Sequential : public Module {
 public:
  Sequential(std::initializer_list<Layer> layers = {});

  void add(Layer layer);
  Tensor forward(const Tensor& x) override;
  // The output of the last layer before its activation, when it has one
  // (Dense/Conv2D with an activation, or an Activation layer); else forward(x).
  Tensor forward_logits(const Tensor& x);
  // The activation that forward_logits leaves out ("" when none).
  std::string final_activation() const;

  const std::vector<std::shared_ptr<Module>>& layers() const { return layers_; }
  // A state dict saved when children were named by position ("0.kernel", files
  // of format cortex-model-1) with the names of today ("conv2d.kernel").
  NamedTensors named_by_position(const NamedTensors& state) const;
  const std::optional<Shape>& input_shape() const { return input_shape_; }
  void set_input_shape(Shape shape);

  // Keras's model.summary() table; builds the model from its input shape.
  std::string summary(const std::string& model_name = "sequential");

 protected:
  void build_impl(const Shape& input_shape) override;
  void check_input(const Tensor& x) const override;

 private:
  // The first `count` layers on x, each given the mask the one before left.
  Outputs run(const Tensor& x, std::size_t count);
  std::vector<std::shared_ptr<Module>> layers_;
  std::optional<Shape> input_shape_;
};

// "MaxPooling2D" -> "max_pooling2d", as Keras names layers.
std::string snake_case(const std::string& type);

}  // namespace cortex::nn

namespace cortex::nn {
// Rebuilds a layer from its type() and config_json(); unknown types or bad
// configs raise cortex::ValueError naming the layer.
// Layers are looked up in a registry holding Cortex's own (registered on
// first use) and those added with register_layer.
std::shared_ptr<Module> layer_from_config(const std::string& type, const std::string& config_json);
// Adds (or replaces) the reader for layers of `type`, so that models using a
// custom layer load: from_config gets the layer's config_json().
void register_layer(const std::string& type, std::function<std::shared_ptr<Module>(const std::string&)> from_config);
}  // namespace cortex::nn
