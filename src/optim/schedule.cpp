// Learning-rate schedules (Keras's formulas) and their configs.
#include "cortex/optim/schedule.h"

#include <cmath>
#include <numbers>

#include "config_io.h"
#include "cortex/core/error.h"

namespace cortex::optim {

using nlohmann::json;

namespace {

void require(bool ok, const char* schedule, const char* what, const char* rule, double value) {
  if (!ok) fail<ValueError>(schedule, ": ", what, " must be ", rule, ", got ", value);
}

std::string wrap(const char* class_name, const json& config) {
  return json{{"class_name", class_name}, {"config", config}}.dump();
}

}  // namespace

ExponentialDecay::ExponentialDecay(const ExponentialDecayOptions& options) : o_(options) {
  require(std::isfinite(o_.initial_learning_rate) && o_.initial_learning_rate >= 0, "ExponentialDecay",
          "initial_learning_rate", "finite and >= 0", o_.initial_learning_rate);
  require(o_.decay_steps > 0, "ExponentialDecay", "decay_steps", "> 0", static_cast<double>(o_.decay_steps));
  require(std::isfinite(o_.decay_rate) && o_.decay_rate > 0, "ExponentialDecay", "decay_rate", "finite and > 0",
          o_.decay_rate);
}

double ExponentialDecay::operator()(std::int64_t step) const {
  double p = static_cast<double>(step) / static_cast<double>(o_.decay_steps);
  if (o_.staircase) p = std::floor(p);
  return o_.initial_learning_rate * std::pow(o_.decay_rate, p);
}

std::string ExponentialDecay::config_json() const {
  return wrap("ExponentialDecay", {{"initial_learning_rate", o_.initial_learning_rate},
                                   {"decay_steps", o_.decay_steps},
                                   {"decay_rate", o_.decay_rate},
                                   {"staircase", o_.staircase}});
}

CosineDecay::CosineDecay(const CosineDecayOptions& options) : o_(options) {
  require(std::isfinite(o_.initial_learning_rate) && o_.initial_learning_rate >= 0, "CosineDecay",
          "initial_learning_rate", "finite and >= 0", o_.initial_learning_rate);
  require(o_.decay_steps > 0, "CosineDecay", "decay_steps", "> 0", static_cast<double>(o_.decay_steps));
  require(std::isfinite(o_.alpha) && o_.alpha >= 0 && o_.alpha <= 1, "CosineDecay", "alpha", "in [0, 1]", o_.alpha);
  require(o_.warmup_steps >= 0, "CosineDecay", "warmup_steps", ">= 0", static_cast<double>(o_.warmup_steps));
  if (o_.warmup_target)
    require(std::isfinite(*o_.warmup_target) && *o_.warmup_target >= 0, "CosineDecay", "warmup_target",
            "finite and >= 0", *o_.warmup_target);
  else
    require(o_.warmup_steps == 0, "CosineDecay", "warmup_steps without a warmup_target", "0",
            static_cast<double>(o_.warmup_steps));
}

double CosineDecay::operator()(std::int64_t step) const {
  const double decay_steps = static_cast<double>(o_.decay_steps);
  const double warmup_steps = o_.warmup_target ? static_cast<double>(o_.warmup_steps) : 0.0;
  const double peak = o_.warmup_target.value_or(o_.initial_learning_rate);
  double s = std::min(static_cast<double>(step), decay_steps + warmup_steps);
  if (s < warmup_steps)  // linear warm-up from the initial rate to the target
    return (peak - o_.initial_learning_rate) * (s / warmup_steps) + o_.initial_learning_rate;
  double cosine = 0.5 * (1.0 + std::cos(std::numbers::pi * (s - warmup_steps) / decay_steps));
  return peak * ((1 - o_.alpha) * cosine + o_.alpha);
}

std::string CosineDecay::config_json() const {
  json warmup_target = o_.warmup_target ? json(*o_.warmup_target) : json(nullptr);
  return wrap("CosineDecay", {{"initial_learning_rate", o_.initial_learning_rate},
                              {"decay_steps", o_.decay_steps},
                              {"alpha", o_.alpha},
                              {"warmup_target", warmup_target},
                              {"warmup_steps", o_.warmup_steps}});
}

PiecewiseConstantDecay::PiecewiseConstantDecay(const PiecewiseConstantDecayOptions& options) : o_(options) {
  if (o_.values.size() != o_.boundaries.size() + 1)
    fail<ValueError>("PiecewiseConstantDecay: values must have one more element than boundaries, got ",
                     o_.values.size(), " values for ", o_.boundaries.size(), " boundaries");
  for (std::size_t i = 1; i < o_.boundaries.size(); ++i)
    if (o_.boundaries[i] <= o_.boundaries[i - 1])
      fail<ValueError>("PiecewiseConstantDecay: boundaries must increase, got ", o_.boundaries[i - 1], " then ",
                       o_.boundaries[i]);
  for (double v : o_.values)
    require(std::isfinite(v) && v >= 0, "PiecewiseConstantDecay", "every value", "finite and >= 0", v);
}

double PiecewiseConstantDecay::operator()(std::int64_t step) const {
  std::size_t i = 0;
  while (i < o_.boundaries.size() && step > o_.boundaries[i]) ++i;
  return o_.values[i];
}

std::string PiecewiseConstantDecay::config_json() const {
  return wrap("PiecewiseConstantDecay", {{"boundaries", o_.boundaries}, {"values", o_.values}});
}

LambdaSchedule::LambdaSchedule(std::function<double(std::int64_t)> fn, std::string label)
    : fn_(std::move(fn)), label_(std::move(label)) {
  if (!fn_) fail<ValueError>("LambdaSchedule: expected a callable, got an empty std::function");
}

std::string LambdaSchedule::config_json() const { return wrap("LambdaSchedule", {{"label", label_}}); }

std::shared_ptr<const LearningRateSchedule> detail::schedule_from_json(const json& j) {
  if (!j.is_object() || !j.contains("class_name") || !j["class_name"].is_string())
    fail<ValueError>("a schedule config must be {\"class_name\": ..., \"config\": {...}}, got ", j.dump());
  const std::string name = j["class_name"].get<std::string>();
  ConfigReader in(name + " config", j.value("config", json::object()));
  in.name_key();
  if (name == "ExponentialDecay") {
    ExponentialDecayOptions o{in.number("initial_learning_rate", 0), in.integer("decay_steps", 0),
                              in.number("decay_rate", 0), in.boolean("staircase", false)};
    in.finish();
    return std::make_shared<ExponentialDecay>(o);
  }
  if (name == "CosineDecay") {
    CosineDecayOptions o{in.number("initial_learning_rate", 0), in.integer("decay_steps", 0),
                         in.number("alpha", 0), in.optional_number("warmup_target", std::nullopt),
                         in.integer("warmup_steps", 0)};
    in.finish();
    return std::make_shared<CosineDecay>(o);
  }
  if (name == "PiecewiseConstantDecay") {
    PiecewiseConstantDecayOptions o{in.integers("boundaries"), in.numbers("values")};
    in.finish();
    return std::make_shared<PiecewiseConstantDecay>(o);
  }
  if (name == "LambdaSchedule")
    fail<ValueError>("a LambdaSchedule wraps C++ code and cannot be rebuilt from a config; rebuild the optimizer "
                     "in code, or use ExponentialDecay, CosineDecay or PiecewiseConstantDecay");
  fail<ValueError>("unknown learning-rate schedule '", name,
                   "'; valid schedules: ExponentialDecay, CosineDecay, PiecewiseConstantDecay");
}

std::shared_ptr<const LearningRateSchedule> schedule_from_config(const std::string& json) {
  return detail::schedule_from_json(detail::parse_json(json, "schedule config"));
}

}  // namespace cortex::optim
