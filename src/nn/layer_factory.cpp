// Layers back from their saved type and JSON config (load_model uses this).
#include <nlohmann/json.hpp>

#include <array>
#include <type_traits>
#include <vector>

#include "cortex/io/json_depth.h"
#include "cortex/nn/layers.h"
#include "cortex/nn/sequential.h"

namespace cortex::nn {
namespace {

Regularizer reg(const nlohmann::json& c, const char* key) {
  if (!c.contains(key)) return {};
  const auto& j = c.at(key);
  return {j.value("l1", 0.0), j.value("l2", 0.0)};
}

// Sizes are whole numbers: nlohmann would truncate 2.7 to 2 (and 1e30 is undefined).
template <typename T>
constexpr bool holds_integers = std::is_integral_v<T> && !std::is_same_v<T, bool>;
template <typename T, std::size_t N>
constexpr bool holds_integers<std::array<T, N>> = holds_integers<T>;
template <typename T>
constexpr bool holds_integers<std::vector<T>> = holds_integers<T>;

void expect_integers(const nlohmann::json& j, const char* key) {
  if (j.is_array()) {
    for (const auto& e : j) expect_integers(e, key);
  } else if (!j.is_number_integer()) {
    fail<ValueError>("layer config '", key, "' expects whole numbers, got ", j.dump());
  }
}

// An option that must be in the config.
template <typename T>
T required(const nlohmann::json& c, const char* key) {
  const nlohmann::json& j = c.at(key);
  if constexpr (holds_integers<T>) expect_integers(j, key);
  return j.get<T>();
}

// Every option may be left out of a config: the options struct's default applies.
template <typename T>
T get(const nlohmann::json& c, const char* key, const T& fallback) {
  return c.contains(key) ? required<T>(c, key) : fallback;
}

// Reads the options Dense and Conv2D share; absent ones keep their defaults.
template <typename Options>
Options read_weight_options(const nlohmann::json& c, Options o) {
  o.activation = get(c, "activation", o.activation);
  o.use_bias = get(c, "use_bias", o.use_bias);
  o.kernel_initializer = get(c, "kernel_initializer", o.kernel_initializer);
  o.bias_initializer = get(c, "bias_initializer", o.bias_initializer);
  o.kernel_regularizer = reg(c, "kernel_regularizer");
  o.bias_regularizer = reg(c, "bias_regularizer");
  return o;
}

std::shared_ptr<Module> build(const std::string& type, const nlohmann::json& c) {
  if (!c.is_object()) fail<ValueError>("layer ", type, ": config must be a JSON object, got ", c.dump());
  if (type == "Dense") {
    DenseOptions o;
    o.units = required<std::int64_t>(c, "units");
    return std::make_shared<Dense>(read_weight_options(c, o));
  }
  if (type == "Conv2D") {
    Conv2DOptions o;
    o.filters = required<std::int64_t>(c, "filters");
    o.kernel_size = get(c, "kernel_size", o.kernel_size);
    o.strides = get(c, "strides", o.strides);
    o.padding = get(c, "padding", o.padding);
    o.dilation_rate = get(c, "dilation_rate", o.dilation_rate);
    o.groups = get(c, "groups", o.groups);
    return std::make_shared<Conv2D>(read_weight_options(c, o));
  }
  if (type == "MaxPooling2D" || type == "AveragePooling2D") {
    Pool2DOptions d;
    Pool2DOptions o{.pool_size = get(c, "pool_size", d.pool_size), .strides = get(c, "strides", d.strides),
                    .padding = get(c, "padding", d.padding)};
    if (type == "MaxPooling2D") return std::make_shared<MaxPooling2D>(o);
    return std::make_shared<AveragePooling2D>(o);
  }
  if (type == "GlobalAveragePooling2D") return std::make_shared<GlobalAveragePooling2D>();
  if (type == "Dropout") return std::make_shared<Dropout>(required<double>(c, "rate"));
  if (type == "Flatten") return std::make_shared<Flatten>();
  if (type == "Reshape") return std::make_shared<Reshape>(required<Shape>(c, "target_shape"));
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
    return build(type, io::parse_json<nlohmann::json>(config_json, 8, "layer " + type + ": config"));
  } catch (const nlohmann::json::exception& e) {
    fail<ValueError>("layer ", type, ": bad config ", config_json, " (", e.what(), ")");
  }
}

}  // namespace cortex::nn
