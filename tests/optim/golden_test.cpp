// Three steps of every optimiser against PyTorch goldens (tools/make_goldens.py),
// to 1e-5 relative (1e-6 absolute for elements near zero).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "cortex/optim/optim.h"
#include "support/check.h"

namespace cortex::optim {
namespace {

using nlohmann::json;

std::vector<std::string> golden_cases() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(CORTEX_GOLDENS_DIR)) {
    std::string file = entry.path().filename().string();
    if (file.rfind("optim_", 0) == 0 && entry.path().extension() == ".json")
      names.push_back(file.substr(6, file.size() - 6 - 5));
  }
  std::sort(names.begin(), names.end());
  return names;
}

json load(const std::string& name) {
  std::ifstream in(std::string(CORTEX_GOLDENS_DIR) + "/optim_" + name + ".json");
  return json::parse(in);
}

Tensor tensor_of(const json& values, const Shape& shape) {
  return from_vector(values.get<std::vector<float>>(), shape);
}

class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, MatchesPyTorch) {
  json g = load(GetParam());
  std::unique_ptr<Optimizer> opt = optimizer_from_config(g["config"].dump());
  std::vector<Tensor> params;
  std::vector<Shape> shapes;
  for (const auto& p : g["params"]) {
    shapes.push_back(p["shape"].get<Shape>());
    params.push_back(tensor_of(p["values"], shapes.back()));
    params.back().set_requires_grad(true);
  }
  opt->set_params(params);
  ASSERT_EQ(g["grads"].size(), g["after"].size());
  for (std::size_t step = 0; step < g["grads"].size(); ++step) {
    for (std::size_t i = 0; i < params.size(); ++i) {
      const json& grad = g["grads"][step][i];
      if (grad.is_null()) params[i].zero_grad();
      else params[i].set_grad(tensor_of(grad, shapes[i]));
    }
    opt->step();
    for (std::size_t i = 0; i < params.size(); ++i) {
      SCOPED_TRACE(GetParam() + ": step " + std::to_string(step) + ", parameter " + std::to_string(i));
      EXPECT_ALL_CLOSE(params[i], tensor_of(g["after"][step][i], shapes[i]), 1e-5, 1e-6);
    }
  }
  EXPECT_EQ(opt->iterations(), static_cast<std::int64_t>(g["grads"].size()));
}

// The files are made by hand; a lost one must fail, not shrink the suite.
TEST(Golden, EveryOptimizerHasGoldens) {
  std::set<std::string> classes;
  for (const auto& name : golden_cases()) classes.insert(load(name)["config"]["class_name"].get<std::string>());
  EXPECT_EQ(classes, (std::set<std::string>{"SGD", "Adadelta", "Adagrad", "RMSprop", "Adam", "AdamW"}));
  EXPECT_GE(golden_cases().size(), 16u);
}

// The designated-initialiser options and the config path build the same optimizer.
TEST(Golden, OptionsMatchConfigs) {
  auto config_of = [](const std::string& name) {
    return optimizer_from_config(load(name)["config"].dump())->config_json();
  };
  EXPECT_EQ(Adam({.learning_rate = 0.01, .epsilon = 0.1, .amsgrad = true}).config_json(), config_of("adam_amsgrad"));
  EXPECT_EQ(AdamW({.learning_rate = 0.01, .weight_decay = 0.1, .epsilon = 0.1}).config_json(), config_of("adamw"));
  EXPECT_EQ(SGD({.learning_rate = 0.1, .momentum = 0.9, .nesterov = true}).config_json(), config_of("sgd_nesterov"));
  EXPECT_EQ(RMSprop({.learning_rate = 0.01, .momentum = 0.9, .epsilon = 0.01, .centered = true}).config_json(),
            config_of("rmsprop_centered_momentum"));
  EXPECT_EQ(Adagrad({.learning_rate = 0.1, .epsilon = 0.01}).config_json(), config_of("adagrad"));
  EXPECT_EQ(Adadelta().config_json(), config_of("adadelta"));
  EXPECT_EQ(SGD({.learning_rate = ExponentialDecay({0.1, 1, 0.5}), .momentum = 0.9}).config_json(),
            config_of("sgd_schedule"));
}

INSTANTIATE_TEST_SUITE_P(Optim, Golden, ::testing::ValuesIn(golden_cases()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace cortex::optim
