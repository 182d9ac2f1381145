// Optimizers by name and from configs: the registry behind make_optimizer
// (the CLI's --optimizer) and optimizer_from_config (loading a .cortex file).
#include <algorithm>
#include <cctype>

#include "config_io.h"
#include "cortex/core/error.h"

namespace cortex::optim {

namespace {

struct Entry {
  const char* class_name;
  std::unique_ptr<Optimizer> (*from_config)(detail::ConfigReader&);
};

constexpr Entry kOptimizers[] = {
    {"SGD", detail::sgd_from_config},         {"Adadelta", detail::adadelta_from_config},
    {"Adagrad", detail::adagrad_from_config}, {"RMSprop", detail::rmsprop_from_config},
    {"Adam", detail::adam_from_config},       {"AdamW", detail::adamw_from_config},
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string names_text() {
  std::string out;
  for (const auto& n : optimizer_names()) out += (out.empty() ? "" : ", ") + n;
  return out;
}

const Entry& find(const std::string& name) {
  for (const auto& e : kOptimizers)
    if (lower(e.class_name) == lower(name)) return e;
  fail<ValueError>("unknown optimizer '", name, "'; valid optimizers: ", names_text());
}

std::unique_ptr<Optimizer> build(const Entry& e, nlohmann::json config) {
  detail::ConfigReader in(std::string(e.class_name) + " config", std::move(config));
  return e.from_config(in);
}

}  // namespace

std::vector<std::string> optimizer_names() {
  std::vector<std::string> out;
  for (const auto& e : kOptimizers) out.push_back(lower(e.class_name));
  return out;
}

std::unique_ptr<Optimizer> make_optimizer(const std::string& name, double learning_rate) {
  return build(find(name), {{"learning_rate", learning_rate}});
}

std::unique_ptr<Optimizer> make_optimizer(const std::string& name) {
  return build(find(name), nlohmann::json::object());
}

std::unique_ptr<Optimizer> optimizer_from_config(const std::string& json) {
  nlohmann::json j = detail::parse_json(json, "optimizer config");
  if (j.is_string()) return make_optimizer(j.get<std::string>());
  if (!j.is_object() || !j.contains("class_name") || !j["class_name"].is_string())
    fail<ValueError>("optimizer config must be {\"class_name\": ..., \"config\": {...}} or a name, got ", j.dump());
  nlohmann::json config = j.value("config", nlohmann::json::object());
  return build(find(j["class_name"].get<std::string>()), std::move(config));
}

}  // namespace cortex::optim
