// Reading configs key by key with errors that name the class, the key and what was found.
#include "config_io.h"

#include <cmath>

#include "cortex/core/error.h"
#include "cortex/io/json_depth.h"

namespace cortex::optim::detail {

using nlohmann::json;

json optional_json(const std::optional<double>& value) { return value ? json(*value) : json(nullptr); }

json parse_json(const std::string& text, const char* what) { return io::parse_json<json>(text, 16, what); }

ConfigReader::ConfigReader(std::string what, json config) : what_(std::move(what)), config_(std::move(config)) {
  if (!config_.is_object()) fail<ValueError>(what_, " must be a JSON object, got ", config_.dump());
}

const json* ConfigReader::find(const std::string& key) {
  known_.insert(key);
  auto it = config_.find(key);
  return it == config_.end() ? nullptr : &*it;
}

void ConfigReader::wrong_type(const std::string& key, const char* expected) const {
  fail<ValueError>(what_, ": \"", key, "\" must be ", expected, ", got ", config_.at(key).dump());
}

double ConfigReader::number(const std::string& key, double fallback) {
  const json* v = find(key);
  if (!v) return fallback;
  if (!v->is_number()) wrong_type(key, "a number");
  return v->get<double>();
}

std::optional<double> ConfigReader::optional_number(const std::string& key, std::optional<double> fallback) {
  const json* v = find(key);
  if (!v) return fallback;
  if (v->is_null()) return std::nullopt;
  if (!v->is_number()) wrong_type(key, "a number or null");
  return v->get<double>();
}

std::int64_t ConfigReader::integer(const std::string& key, std::int64_t fallback) {
  const json* v = find(key);
  if (!v) return fallback;
  // Keras writes some step counts as floats (1000.0); accept them when whole.
  if (!v->is_number() || std::floor(v->get<double>()) != v->get<double>()) wrong_type(key, "an integer");
  if (v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))
    wrong_type(key, "an integer below 2^63");
  if (v->is_number_float() && std::fabs(v->get<double>()) >= 9223372036854775808.0)
    wrong_type(key, "an integer below 2^63");
  return v->is_number_integer() ? v->get<std::int64_t>() : static_cast<std::int64_t>(v->get<double>());
}

bool ConfigReader::boolean(const std::string& key, bool fallback) {
  const json* v = find(key);
  if (!v) return fallback;
  if (!v->is_boolean()) wrong_type(key, "true or false");
  return v->get<bool>();
}

std::vector<std::int64_t> ConfigReader::integers(const std::string& key) {
  const json* v = find(key);
  if (!v) fail<ValueError>(what_, ": \"", key, "\" is required");
  if (!v->is_array()) wrong_type(key, "a list of integers");
  std::vector<std::int64_t> out;
  for (const auto& e : *v) {
    if (!e.is_number_integer()) wrong_type(key, "a list of integers");
    out.push_back(e.get<std::int64_t>());
  }
  return out;
}

std::vector<double> ConfigReader::numbers(const std::string& key) {
  const json* v = find(key);
  if (!v) fail<ValueError>(what_, ": \"", key, "\" is required");
  if (!v->is_array()) wrong_type(key, "a list of numbers");
  std::vector<double> out;
  for (const auto& e : *v) {
    if (!e.is_number()) wrong_type(key, "a list of numbers");
    out.push_back(e.get<double>());
  }
  return out;
}

LearningRate ConfigReader::learning_rate(const LearningRate& fallback) {
  const json* v = find("learning_rate");
  if (!v) return fallback;
  if (v->is_number()) return v->get<double>();
  if (v->is_object()) return schedule_from_json(*v);
  wrong_type("learning_rate", "a number or a schedule's {\"class_name\": ..., \"config\": ...}");
}

void ConfigReader::name_key() {
  if (const json* v = find("name"); v && !v->is_string()) wrong_type("name", "a string");
}

void ConfigReader::keras_extras() {
  name_key();
  find("ema_momentum");
  if (const json* v = find("use_ema"); v && *v != json(false)) wrong_type("use_ema", "false (EMA is not supported)");
  for (const char* key : {"ema_overwrite_frequency", "loss_scale_factor", "gradient_accumulation_steps"})
    if (const json* v = find(key); v && !v->is_null()) wrong_type(key, "null (not supported)");
}

void ConfigReader::finish() const {
  std::string unknown, valid;
  for (const auto& item : config_.items())
    if (!known_.count(item.key())) unknown += (unknown.empty() ? "\"" : ", \"") + item.key() + "\"";
  if (unknown.empty()) return;
  for (const auto& key : known_) valid += (valid.empty() ? "" : ", ") + key;
  fail<ValueError>(what_, ": unknown key ", unknown, "; valid keys: ", valid);
}

}  // namespace cortex::optim::detail
