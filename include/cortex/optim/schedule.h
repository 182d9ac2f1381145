// Learning-rate schedules with Keras's names and formulas, evaluated at the
// optimizer's iteration count, and LearningRate: what `.learning_rate =` takes.
#pragma once

#include <concepts>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cortex::optim {

class LearningRateSchedule {
 public:
  virtual ~LearningRateSchedule() = default;
  // The rate for the update made after `step` completed updates (Keras passes
  // optimizer.iterations, so the first update sees step 0).
  virtual double operator()(std::int64_t step) const = 0;
  virtual std::string name() const = 0;  // Keras's class name
  // {"class_name": name(), "config": {...}}, read back by schedule_from_config.
  virtual std::string config_json() const = 0;
};

// initial_learning_rate * decay_rate ^ (step / decay_steps); with staircase the
// exponent is floored, which makes it a step decay.
struct ExponentialDecayOptions {
  double initial_learning_rate = 0;
  std::int64_t decay_steps = 0;
  double decay_rate = 0;
  bool staircase = false;
};

class ExponentialDecay final : public LearningRateSchedule {
 public:
  explicit ExponentialDecay(const ExponentialDecayOptions& options);
  double operator()(std::int64_t step) const override;
  std::string name() const override { return "ExponentialDecay"; }
  std::string config_json() const override;

 private:
  ExponentialDecayOptions o_;
};

// Optional linear warm-up from initial_learning_rate to warmup_target over
// warmup_steps, then a cosine from the peak (warmup_target, or
// initial_learning_rate without warm-up) down to peak * alpha over decay_steps,
// after which it stays there.
struct CosineDecayOptions {
  double initial_learning_rate = 0;
  std::int64_t decay_steps = 0;
  double alpha = 0.0;
  std::optional<double> warmup_target{};
  std::int64_t warmup_steps = 0;
};

class CosineDecay final : public LearningRateSchedule {
 public:
  explicit CosineDecay(const CosineDecayOptions& options);
  double operator()(std::int64_t step) const override;
  std::string name() const override { return "CosineDecay"; }
  std::string config_json() const override;

 private:
  CosineDecayOptions o_;
};

// values[0] while step <= boundaries[0], values[i] while
// boundaries[i-1] < step <= boundaries[i], values.back() after the last one.
struct PiecewiseConstantDecayOptions {
  std::vector<std::int64_t> boundaries{};
  std::vector<double> values{};  // one more than boundaries
};

class PiecewiseConstantDecay final : public LearningRateSchedule {
 public:
  explicit PiecewiseConstantDecay(const PiecewiseConstantDecayOptions& options);
  double operator()(std::int64_t step) const override;
  std::string name() const override { return "PiecewiseConstantDecay"; }
  std::string config_json() const override;

 private:
  PiecewiseConstantDecayOptions o_;
};

// Any callable of the step. Its config records only `label`: C++ code cannot be
// rebuilt from a file, so schedule_from_config refuses it with a clear error.
class LambdaSchedule final : public LearningRateSchedule {
 public:
  explicit LambdaSchedule(std::function<double(std::int64_t)> fn, std::string label = "lambda");
  double operator()(std::int64_t step) const override { return fn_(step); }
  std::string name() const override { return "LambdaSchedule"; }
  std::string config_json() const override;

 private:
  std::function<double(std::int64_t)> fn_;
  std::string label_;
};

// Rebuilds a schedule from config_json(); throws cortex::ValueError on bad input.
std::shared_ptr<const LearningRateSchedule> schedule_from_config(const std::string& json);

// A fixed rate or a schedule, as Keras's `learning_rate=` argument takes either:
//   .learning_rate = 1e-3
//   .learning_rate = optim::ExponentialDecay({.initial_learning_rate = 0.1, .decay_steps = 1000, .decay_rate = 0.5})
class LearningRate {
 public:
  LearningRate(double value) : value_(value) {}  // implicit on purpose, like the two below
  template <std::derived_from<LearningRateSchedule> S>
  LearningRate(S schedule) : schedule_(std::make_shared<const S>(std::move(schedule))) {}
  template <std::derived_from<LearningRateSchedule> S>
  LearningRate(std::shared_ptr<S> schedule) : schedule_(std::move(schedule)) {}

  double value() const { return value_; }  // meaningful only without a schedule
  const std::shared_ptr<const LearningRateSchedule>& schedule() const { return schedule_; }

 private:
  double value_ = 0.0;
  std::shared_ptr<const LearningRateSchedule> schedule_;
};

}  // namespace cortex::optim
