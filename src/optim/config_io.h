// Private to cortex_optim: JSON reading and writing of optimizer and schedule
// configs (nlohmann/json stays out of the public headers).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cortex/optim/optimizer.h"

namespace cortex::optim::detail {

struct ConfigWriter {
  nlohmann::json config = nlohmann::json::object();
};

nlohmann::json optional_json(const std::optional<double>& value);  // null when empty

// Reads the "config" object of one class, remembering the keys it was asked
// for; finish() rejects any other key (a typo must not be silently ignored).
class ConfigReader {
 public:
  ConfigReader(std::string what, nlohmann::json config);  // what: "Adam config"

  double number(const std::string& key, double fallback);
  std::optional<double> optional_number(const std::string& key, std::optional<double> fallback);
  std::int64_t integer(const std::string& key, std::int64_t fallback);
  bool boolean(const std::string& key, bool fallback);
  std::vector<std::int64_t> integers(const std::string& key);
  std::vector<double> numbers(const std::string& key);
  LearningRate learning_rate(const LearningRate& fallback);  // a number or a schedule's config
  void name_key();  // Keras's instance "name": accepted, not used
  // Keras optimizer keys we accept only with their "off" value (use_ema, ...), and name.
  void keras_extras();
  void finish() const;

 private:
  const nlohmann::json* find(const std::string& key);
  [[noreturn]] void wrong_type(const std::string& key, const char* expected) const;

  std::string what_;
  nlohmann::json config_;
  std::set<std::string> known_;
};

// The common options every optimizer reads the same way.
template <class Options>
Options read_common(ConfigReader& in, Options o) {
  o.learning_rate = in.learning_rate(o.learning_rate);
  o.weight_decay = in.optional_number("weight_decay", o.weight_decay);
  o.clipnorm = in.optional_number("clipnorm", o.clipnorm);
  o.clipvalue = in.optional_number("clipvalue", o.clipvalue);
  o.global_clipnorm = in.optional_number("global_clipnorm", o.global_clipnorm);
  in.keras_extras();
  return o;
}

// Parses text or throws cortex::ValueError naming `what`.
nlohmann::json parse_json(const std::string& text, const char* what);
std::shared_ptr<const LearningRateSchedule> schedule_from_json(const nlohmann::json& j);

// One per optimizer, defined beside it; each ends with in.finish().
std::unique_ptr<Optimizer> sgd_from_config(ConfigReader& in);
std::unique_ptr<Optimizer> adadelta_from_config(ConfigReader& in);
std::unique_ptr<Optimizer> adagrad_from_config(ConfigReader& in);
std::unique_ptr<Optimizer> rmsprop_from_config(ConfigReader& in);
std::unique_ptr<Optimizer> adam_from_config(ConfigReader& in);
std::unique_ptr<Optimizer> adamw_from_config(ConfigReader& in);

}  // namespace cortex::optim::detail
