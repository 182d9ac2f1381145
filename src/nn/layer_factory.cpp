// Layers back from their saved type and JSON config (load_model uses this).
#include <nlohmann/json.hpp>

#include <array>
#include <functional>
#include <map>
#include <mutex>
#include <type_traits>
#include <vector>

#include "cortex/io/json_depth.h"
#include "cortex/nn/functional.h"
#include "cortex/nn/layers.h"
#include "cortex/nn/recurrent.h"
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

RecurrentOptions read_recurrent(const nlohmann::json& c) {
  RecurrentOptions o;
  o.units = required<std::int64_t>(c, "units");
  o.activation = get(c, "activation", o.activation);
  o.recurrent_activation = get(c, "recurrent_activation", o.recurrent_activation);
  o.use_bias = get(c, "use_bias", o.use_bias);
  o.kernel_initializer = get(c, "kernel_initializer", o.kernel_initializer);
  o.recurrent_initializer = get(c, "recurrent_initializer", o.recurrent_initializer);
  o.bias_initializer = get(c, "bias_initializer", o.bias_initializer);
  o.unit_forget_bias = get(c, "unit_forget_bias", o.unit_forget_bias);
  o.reset_after = get(c, "reset_after", o.reset_after);
  o.dropout = get(c, "dropout", o.dropout);
  o.recurrent_dropout = get(c, "recurrent_dropout", o.recurrent_dropout);
  o.return_sequences = get(c, "return_sequences", o.return_sequences);
  o.return_state = get(c, "return_state", o.return_state);
  o.go_backwards = get(c, "go_backwards", o.go_backwards);
  o.stateful = get(c, "stateful", o.stateful);
  o.unroll = get(c, "unroll", o.unroll);
  return o;
}

// A wrapped layer: {"class_name": ..., "config": {...}}.
std::shared_ptr<Module> inner_layer(const nlohmann::json& c, const char* who) {
  const nlohmann::json& l = c.at("layer");
  if (!l.is_object() || !l.contains("class_name") || !l.at("class_name").is_string())
    fail<ValueError>(who, " config expects 'layer': {\"class_name\": ..., \"config\": ...}, got ", l.dump());
  return layer_from_config(l.at("class_name").get<std::string>(), l.contains("config") ? l.at("config").dump() : "{}");
}

using Reader = std::function<std::shared_ptr<Module>(const nlohmann::json&)>;

std::map<std::string, Reader>& registry() {
  static std::map<std::string, Reader> r;
  return r;
}
std::mutex registry_mutex;

template <typename L>
Reader simple() {
  return [](const nlohmann::json&) { return std::make_shared<L>(); };
}

// Cortex's own layers, each with the reader of its Keras config. Explicit
// (static self-registration is dropped by static libraries).
void register_layers() {
  auto& r = registry();
  r["Dense"] = [](const nlohmann::json& c) {
    DenseOptions o;
    o.units = required<std::int64_t>(c, "units");
    return std::make_shared<Dense>(read_weight_options(c, o));
  };
  r["Conv2D"] = [](const nlohmann::json& c) {
    Conv2DOptions o;
    o.filters = required<std::int64_t>(c, "filters");
    o.kernel_size = get(c, "kernel_size", o.kernel_size);
    o.strides = get(c, "strides", o.strides);
    o.padding = get(c, "padding", o.padding);
    o.dilation_rate = get(c, "dilation_rate", o.dilation_rate);
    o.groups = get(c, "groups", o.groups);
    return std::make_shared<Conv2D>(read_weight_options(c, o));
  };
  auto pool = [](const nlohmann::json& c) {
    Pool2DOptions d;
    return Pool2DOptions{.pool_size = get(c, "pool_size", d.pool_size), .strides = get(c, "strides", d.strides),
                         .padding = get(c, "padding", d.padding)};
  };
  r["MaxPooling2D"] = [pool](const nlohmann::json& c) { return std::make_shared<MaxPooling2D>(pool(c)); };
  r["AveragePooling2D"] = [pool](const nlohmann::json& c) { return std::make_shared<AveragePooling2D>(pool(c)); };
  r["GlobalAveragePooling2D"] = simple<GlobalAveragePooling2D>();
  r["Dropout"] = [](const nlohmann::json& c) { return std::make_shared<Dropout>(required<double>(c, "rate")); };
  r["Flatten"] = simple<Flatten>();
  r["Reshape"] = [](const nlohmann::json& c) { return std::make_shared<Reshape>(required<Shape>(c, "target_shape")); };
  for (const auto& [type, fallback] : {std::pair<std::string, std::string>{"Activation", "linear"},
                                       {"ReLU", "relu"}, {"Softmax", "softmax"}})
    r[type] = [type, fallback](const nlohmann::json& c) {
      return std::make_shared<Activation>(get(c, "activation", fallback), type);
    };
  r["BatchNormalization"] = [](const nlohmann::json& c) {
    BatchNormalizationOptions d;
    return std::make_shared<BatchNormalization>(BatchNormalizationOptions{
        .momentum = get(c, "momentum", d.momentum), .epsilon = get(c, "epsilon", d.epsilon),
        .center = get(c, "center", d.center), .scale = get(c, "scale", d.scale)});
  };
  r["SimpleRNN"] = [](const nlohmann::json& c) { return std::make_shared<SimpleRNN>(read_recurrent(c)); };
  r["LSTM"] = [](const nlohmann::json& c) { return std::make_shared<LSTM>(read_recurrent(c)); };
  r["GRU"] = [](const nlohmann::json& c) { return std::make_shared<GRU>(read_recurrent(c)); };
  r["Embedding"] = [](const nlohmann::json& c) {
    EmbeddingOptions d;
    return std::make_shared<Embedding>(EmbeddingOptions{
        .input_dim = required<std::int64_t>(c, "input_dim"), .output_dim = required<std::int64_t>(c, "output_dim"),
        .embeddings_initializer = get(c, "embeddings_initializer", d.embeddings_initializer),
        .mask_zero = get(c, "mask_zero", d.mask_zero)});
  };
  r["Masking"] = [](const nlohmann::json& c) { return std::make_shared<Masking>(get(c, "mask_value", 0.0)); };
  r["RepeatVector"] = [](const nlohmann::json& c) { return std::make_shared<RepeatVector>(required<std::int64_t>(c, "n")); };
  r["TimeDistributed"] = [](const nlohmann::json& c) {
    return std::make_shared<TimeDistributed>(inner_layer(c, "TimeDistributed"));
  };
  r["Add"] = simple<Add>();
  r["Subtract"] = simple<Subtract>();
  r["Multiply"] = simple<Multiply>();
  r["Average"] = simple<Average>();
  r["Maximum"] = simple<Maximum>();
  r["Concatenate"] = [](const nlohmann::json& c) { return std::make_shared<Concatenate>(get(c, "axis", std::int64_t{-1})); };
  r["Dot"] = [](const nlohmann::json& c) {
    const nlohmann::json& axes = c.at("axes");
    std::array<std::int64_t, 2> a = axes.is_array() ? required<std::array<std::int64_t, 2>>(c, "axes")
                                                    : std::array<std::int64_t, 2>{required<std::int64_t>(c, "axes"),
                                                                                  required<std::int64_t>(c, "axes")};
    return std::make_shared<Dot>(a, get(c, "normalize", false));
  };
  r["Bidirectional"] = [](const nlohmann::json& c) {
    auto inner = std::dynamic_pointer_cast<Recurrent>(inner_layer(c, "Bidirectional"));
    if (!inner) fail<ValueError>("Bidirectional config expects a recurrent layer (SimpleRNN, LSTM, GRU), got ", c.at("layer").dump());
    return std::make_shared<Bidirectional>(inner, get(c, "merge_mode", std::string("concat")));
  };
}

const std::map<std::string, Reader>& layers() {
  static std::once_flag once;
  std::call_once(once, register_layers);
  return registry();
}

std::shared_ptr<Module> build(const std::string& type, const nlohmann::json& c) {
  if (!c.is_object()) fail<ValueError>("layer ", type, ": config must be a JSON object, got ", c.dump());
  std::unique_lock lock(registry_mutex);
  const auto& known = layers();
  auto it = known.find(type);
  if (it == known.end()) {
    std::string names;
    for (const auto& [name, reader] : known) names += (names.empty() ? "" : ", ") + name;
    fail<ValueError>("unknown layer type '", type, "'; expected one of ", names);
  }
  Reader reader = it->second;
  lock.unlock();
  return reader(c);
}

}  // namespace

std::shared_ptr<Module> layer_from_config(const std::string& type, const std::string& config_json) {
  try {
    return build(type, io::parse_json<nlohmann::json>(config_json, 8, "layer " + type + ": config"));
  } catch (const nlohmann::json::exception& e) {
    fail<ValueError>("layer ", type, ": bad config ", config_json, " (", e.what(), ")");
  }
}

void register_layer(const std::string& type, std::function<std::shared_ptr<Module>(const std::string&)> from_config) {
  if (type.empty() || !from_config) fail<ValueError>("register_layer expects a type name and a reader");
  std::lock_guard lock(registry_mutex);
  layers();
  registry()[type] = [fn = std::move(from_config)](const nlohmann::json& c) { return fn(c.dump()); };
}

}  // namespace cortex::nn
