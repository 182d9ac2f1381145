// Bad input to optimisers and schedules: a cortex::Error whose message says
// what was expected and what was found.
#include <cmath>

#include "cortex/optim/optim.h"
#include "support/check.h"

namespace cortex::optim {
namespace {

// Runs f, expects an E whose message contains every one of `parts`.
template <class E, class F>
void expect_error(F&& f, std::initializer_list<const char*> parts) {
  try {
    f();
    ADD_FAILURE() << "no exception; expected one mentioning " << *parts.begin();
  } catch (const E& e) {
    std::string message = e.what();
    for (const char* part : parts) EXPECT_NE(message.find(part), std::string::npos) << message;
  }
}

Tensor leaf(const Shape& shape) {
  Tensor p = zeros(shape);
  p.set_requires_grad(true);
  return p;
}

TEST(OptimErrors, UnknownNameListsTheValidOnes) {
  expect_error<ValueError>([] { make_optimizer("adamax", 0.1); },
                           {"unknown optimizer 'adamax'", "sgd, adadelta, adagrad, rmsprop, adam, adamw"});
  expect_error<ValueError>([] { optimizer_from_config(R"({"class_name": "Lion", "config": {}})"); }, {"'Lion'"});
}

TEST(OptimErrors, BadHyperparameters) {
  expect_error<ValueError>([] { SGD({.learning_rate = -0.1}); }, {"SGD", "learning_rate", "-0.1"});
  expect_error<ValueError>([] { SGD({.momentum = 1.5}); }, {"SGD", "momentum must be in [0, 1]", "1.5"});
  expect_error<ValueError>([] { Adam({.beta_1 = 1.0}); }, {"Adam", "beta_1 must be in [0, 1)"});
  expect_error<ValueError>([] { RMSprop({.rho = -1}); }, {"RMSprop", "rho"});
  expect_error<ValueError>([] { Adagrad({.initial_accumulator_value = -1}); }, {"initial_accumulator_value"});
  expect_error<ValueError>([] { Adadelta({.epsilon = -1e-7}); }, {"Adadelta", "epsilon"});
  expect_error<ValueError>([] { Adam({.weight_decay = -0.1}); }, {"weight_decay"});
  expect_error<ValueError>([] { SGD({.clipnorm = 0.0}); }, {"clipnorm must be finite and > 0"});
  expect_error<ValueError>([] { SGD({.clipnorm = 1.0, .clipvalue = 0.5}); },
                           {"only one of clipnorm, clipvalue and global_clipnorm", "global_clipnorm=none"});
  expect_error<ValueError>([] { AdamW({.weight_decay = std::nullopt}); }, {"AdamW", "weight_decay must be set"});
}

TEST(OptimErrors, BadConfigs) {
  expect_error<ValueError>([] { optimizer_from_config("{not json"); }, {"not valid JSON"});
  expect_error<ValueError>([] { optimizer_from_config(R"({"class_name": "Adam", "config": {"beta1": 0.9}})"); },
                           {"Adam config", "unknown key \"beta1\"", "beta_1"});
  expect_error<ValueError>([] { optimizer_from_config(R"({"class_name": "SGD", "config": {"momentum": "lots"}})"); },
                           {"SGD config", "\"momentum\" must be a number", "\"lots\""});
  expect_error<ValueError>([] { optimizer_from_config(R"({"class_name": "SGD", "config": {"use_ema": true}})"); },
                           {"use_ema"});
  expect_error<ValueError>([] { optimizer_from_config(R"({"config": {}})"); }, {"class_name"});
  expect_error<ValueError>(
      [] { optimizer_from_config(R"({"class_name": "AdamW", "config": {"weight_decay": null}})"); },
      {"AdamW", "weight_decay"});
}

TEST(OptimErrors, BadParameters) {
  SGD sgd;
  expect_error<Error>([&] { sgd.step(); }, {"SGD.step", "set_params"});
  expect_error<ValueError>([&] { sgd.set_params({zeros({2})}); }, {"parameter 0", "leaf tensor that requires grad"});
  Tensor p = leaf({2});
  expect_error<ValueError>([&] { sgd.set_params({p, p}); }, {"parameter 1 appears twice"});
  expect_error<ValueError>([&] { sgd.set_params({Tensor()}); }, {"undefined"});
  expect_error<ValueError>([&] { sgd.set_params({(p * 2.0)}); }, {"leaf"});
  sgd.set_params({p});
  expect_error<ValueError>([&] { sgd.step(); }, {"none of the 1 parameters has a gradient", "backward()"});
  EXPECT_EQ(sgd.iterations(), 0);
}

TEST(OptimErrors, BadState) {
  Adam adam;
  Tensor a = leaf({2, 3}), b = leaf({4});
  expect_error<Error>([&] { adam.load_state({}); }, {"Adam.load_state", "set_params"});
  adam.set_params({a, b});
  NamedTensors good = adam.state();

  NamedTensors missing(good.begin(), good.end() - 1);  // drops v.1
  expect_error<ValueError>([&] { adam.load_state(missing); },
                           {"missing entry 'v.1'", "iterations, learning_rate, m.0..m.1, v.0..v.1"});
  NamedTensors wrong_shape = good;
  wrong_shape[2].second = zeros({3, 2});
  expect_error<ShapeError>([&] { adam.load_state(wrong_shape); },
                           {"'m.0' has shape [3, 2] but parameter 0 has shape [2, 3]"});
  NamedTensors extra = good;
  extra.emplace_back("momentum.0", zeros({2, 3}));
  expect_error<ValueError>([&] { adam.load_state(extra); }, {"unexpected entries 'momentum.0'"});
  NamedTensors twice = good;
  twice.push_back(good[2]);
  expect_error<ValueError>([&] { adam.load_state(twice); }, {"'m.0' appears twice"});
  NamedTensors bad_count = good;
  bad_count[0].second = scalar(-1, DType::i64);
  expect_error<ValueError>([&] { adam.load_state(bad_count); }, {"'iterations' must be a whole number in [0, 2^53)", "-1"});
  // inf passes ">= 0" and "whole"; cast to an integer it would be undefined (and Adam's step NaN).
  for (double count : {double{INFINITY}, 1e30, 9007199254740992.0}) {
    bad_count[0].second = scalar(count, DType::f64);
    expect_error<ValueError>([&] { adam.load_state(bad_count); }, {"'iterations' must be a whole number in [0, 2^53)"});
  }

  // Nothing was changed by the failed loads.
  EXPECT_EQ(adam.iterations(), 0);
  EXPECT_EQ(adam.state()[2].second.shape(), (Shape{2, 3}));
  // SGD state into Adam: the slots are missing.
  SGD sgd({.momentum = 0.9});
  sgd.set_params({a, b});
  expect_error<ValueError>([&] { adam.load_state(sgd.state()); }, {"missing entry 'm.0'"});
}

TEST(ScheduleErrors, BadOptions) {
  expect_error<ValueError>([] { ExponentialDecay({.initial_learning_rate = 0.1, .decay_rate = 0.5}); },
                           {"ExponentialDecay", "decay_steps must be > 0", "got 0"});
  expect_error<ValueError>([] { CosineDecay({.initial_learning_rate = 0.1, .decay_steps = 10, .alpha = 2}); },
                           {"CosineDecay", "alpha"});
  expect_error<ValueError>(
      [] { CosineDecay({.initial_learning_rate = 0.1, .decay_steps = 10, .warmup_steps = 5}); },
      {"warmup_steps without a warmup_target"});
  expect_error<ValueError>([] { PiecewiseConstantDecay({.boundaries = {10}, .values = {1.0}}); },
                           {"one more element than boundaries", "1 values for 1 boundaries"});
  expect_error<ValueError>([] { PiecewiseConstantDecay({.boundaries = {10, 5}, .values = {1, 2, 3}}); },
                           {"boundaries must increase"});
  expect_error<ValueError>([] { LambdaSchedule(nullptr); }, {"LambdaSchedule"});
}

TEST(ScheduleErrors, BadConfigsAndValues) {
  expect_error<ValueError>([] { schedule_from_config(R"({"class_name": "PolynomialDecay", "config": {}})"); },
                           {"unknown learning-rate schedule 'PolynomialDecay'", "ExponentialDecay"});
  LambdaSchedule lambda([](std::int64_t) { return 0.1; });
  expect_error<ValueError>([&] { schedule_from_config(lambda.config_json()); }, {"cannot be rebuilt"});
  expect_error<ValueError>([] { schedule_from_config(R"({"class_name": "ExponentialDecay", "config": {
      "initial_learning_rate": 0.1, "decay_steps": 2.5, "decay_rate": 0.5}})"); },
                           {"\"decay_steps\" must be an integer", "2.5"});
  // Whole but past int64: undefined to cast, so refused.
  for (const char* steps : {"1e30", "18446744073709551615"})
    expect_error<ValueError>([&] { schedule_from_config(std::string(R"({"class_name": "ExponentialDecay", "config": {
        "initial_learning_rate": 0.1, "decay_rate": 0.5, "decay_steps": )") + steps + "}}"); },
                             {"\"decay_steps\" must be an integer below 2^63"});
  SGD sgd({.learning_rate = LambdaSchedule([](std::int64_t step) { return step < 1 ? 0.1 : NAN; }, "nan")});
  Tensor p = leaf({1});
  sgd.set_params({p});
  p.set_grad(ones({1}));
  sgd.step();
  expect_error<ValueError>([&] { sgd.step(); }, {"LambdaSchedule schedule gave learning rate nan at step 1"});
}

}  // namespace
}  // namespace cortex::optim
