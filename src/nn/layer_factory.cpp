// Layers back from their saved type and JSON config (load_model uses this).
#include <nlohmann/json.hpp>

#include "cortex/nn/layers.h"
#include "cortex/nn/sequential.h"

namespace cortex::nn {
namespace {

Regularizer reg(const nlohmann::json& c, const char* key) {
  if (!c.contains(key)) return {};
  const auto& j = c.at(key);
  return {j.value("l1", 0.0), j.value("l2", 0.0)};
}

// Every option may be left out of a config: the options struct's default applies.
template <typename T>
T get(const nlohmann::json& c, const char* key, const T& fallback) {
  return c.contains(key) ? c.at(key).get<T>() : fallback;
}

std::shared_ptr<Module> build(const std::string& type, const nlohmann::json& c) {
  if (!c.is_object()) fail<ValueError>("layer ", type, ": config must be a JSON object, got ", c.dump());
  if (type == "Dense") {
    DenseOptions d;
    return std::make_shared<Dense>(DenseOptions{.units = c.at("units"),
                                                .activation = get(c, "activation", d.activation),
                                                .use_bias = get(c, "use_bias", d.use_bias),
                                                .kernel_initializer = get(c, "kernel_initializer", d.kernel_initializer),
                                                .bias_initializer = get(c, "bias_initializer", d.bias_initializer),
                                                .kernel_regularizer = reg(c, "kernel_regularizer"),
                                                .bias_regularizer = reg(c, "bias_regularizer")});
  }
  if (type == "Conv2D") {
    Conv2DOptions d;
    return std::make_shared<Conv2D>(Conv2DOptions{.filters = c.at("filters"),
                                                  .kernel_size = get(c, "kernel_size", d.kernel_size),
                                                  .strides = get(c, "strides", d.strides),
                                                  .padding = get(c, "padding", d.padding),
                                                  .dilation_rate = get(c, "dilation_rate", d.dilation_rate),
                                                  .groups = get(c, "groups", d.groups),
                                                  .activation = get(c, "activation", d.activation),
                                                  .use_bias = get(c, "use_bias", d.use_bias),
                                                  .kernel_initializer = get(c, "kernel_initializer", d.kernel_initializer),
                                                  .bias_initializer = get(c, "bias_initializer", d.bias_initializer),
                                                  .kernel_regularizer = reg(c, "kernel_regularizer"),
                                                  .bias_regularizer = reg(c, "bias_regularizer")});
  }
  if (type == "MaxPooling2D" || type == "AveragePooling2D") {
    Pool2DOptions d;
    Pool2DOptions o{.pool_size = get(c, "pool_size", d.pool_size), .strides = get(c, "strides", d.strides),
                    .padding = get(c, "padding", d.padding)};
    if (type == "MaxPooling2D") return std::make_shared<MaxPooling2D>(o);
    return std::make_shared<AveragePooling2D>(o);
  }
  if (type == "GlobalAveragePooling2D") return std::make_shared<GlobalAveragePooling2D>();
  if (type == "Dropout") return std::make_shared<Dropout>(c.at("rate").get<double>());
  if (type == "Flatten") return std::make_shared<Flatten>();
  if (type == "Reshape") return std::make_shared<Reshape>(c.at("target_shape").get<Shape>());
  if (type == "Activation" || type == "ReLU" || type == "Softmax") {
    std::string fallback = type == "ReLU" ? "relu" : type == "Softmax" ? "softmax" : "linear";
    return std::make_shared<Activation>(get(c, "activation", fallback), type);
  }
  if (type == "BatchNormalization") {
    BatchNormalizationOptions d;
    return std::make_shared<BatchNormalization>(BatchNormalizationOptions{
        .momentum = get(c, "momentum", d.momentum), .epsilon = get(c, "epsilon", d.epsilon),
        .center = get(c, "center", d.center), .scale = get(c, "scale", d.scale)});
  }
  fail<ValueError>("unknown layer type '", type,
                   "'; expected Dense, Conv2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, Dropout, "
                   "Flatten, Reshape, Activation, ReLU, Softmax or BatchNormalization");
}

}  // namespace

std::shared_ptr<Module> layer_from_config(const std::string& type, const std::string& config_json) {
  try {
    return build(type, nlohmann::json::parse(config_json));
  } catch (const nlohmann::json::exception& e) {
    fail<ValueError>("layer ", type, ": bad config ", config_json, " (", e.what(), ")");
  }
}

}  // namespace cortex::nn
