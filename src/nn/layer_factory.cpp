// Layers back from their saved type and JSON config (load_model uses this).
#include <nlohmann/json.hpp>

#include "cortex/nn/layers.h"
#include "cortex/nn/sequential.h"

namespace cortex::nn {
namespace {

Regularizer reg(const nlohmann::json& j) { return {j.value("l1", 0.0), j.value("l2", 0.0)}; }

std::shared_ptr<Module> build(const std::string& type, const nlohmann::json& c) {
  if (type == "Dense")
    return std::make_shared<Dense>(DenseOptions{.units = c.at("units"),
                                                .activation = c.at("activation"),
                                                .use_bias = c.at("use_bias"),
                                                .kernel_initializer = c.at("kernel_initializer"),
                                                .bias_initializer = c.at("bias_initializer"),
                                                .kernel_regularizer = reg(c.at("kernel_regularizer")),
                                                .bias_regularizer = reg(c.at("bias_regularizer"))});
  if (type == "Conv2D")
    return std::make_shared<Conv2D>(Conv2DOptions{.filters = c.at("filters"),
                                                  .kernel_size = c.at("kernel_size"),
                                                  .strides = c.at("strides"),
                                                  .padding = c.at("padding"),
                                                  .dilation_rate = c.at("dilation_rate"),
                                                  .groups = c.at("groups"),
                                                  .activation = c.at("activation"),
                                                  .use_bias = c.at("use_bias"),
                                                  .kernel_initializer = c.at("kernel_initializer"),
                                                  .bias_initializer = c.at("bias_initializer"),
                                                  .kernel_regularizer = reg(c.at("kernel_regularizer")),
                                                  .bias_regularizer = reg(c.at("bias_regularizer"))});
  if (type == "MaxPooling2D" || type == "AveragePooling2D") {
    Pool2DOptions o{.pool_size = c.at("pool_size"), .strides = c.at("strides"), .padding = c.at("padding")};
    if (type == "MaxPooling2D") return std::make_shared<MaxPooling2D>(o);
    return std::make_shared<AveragePooling2D>(o);
  }
  if (type == "GlobalAveragePooling2D") return std::make_shared<GlobalAveragePooling2D>();
  if (type == "Dropout") return std::make_shared<Dropout>(c.at("rate").get<double>());
  if (type == "Flatten") return std::make_shared<Flatten>();
  if (type == "Reshape") return std::make_shared<Reshape>(c.at("target_shape").get<Shape>());
  if (type == "Activation" || type == "ReLU" || type == "Softmax")
    return std::make_shared<Activation>(c.at("activation").get<std::string>(), type);
  if (type == "BatchNormalization")
    return std::make_shared<BatchNormalization>(BatchNormalizationOptions{
        .momentum = c.at("momentum"), .epsilon = c.at("epsilon"), .center = c.at("center"), .scale = c.at("scale")});
  fail<ValueError>("unknown layer type '", type, "'");
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
