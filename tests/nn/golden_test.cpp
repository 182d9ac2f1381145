// Forward and backward of every layer against PyTorch goldens (tools/make_goldens.py),
// in f32 on the cpu and ref backends, to 1e-5 relative (1e-6 absolute for elements near zero).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "cortex/nn/nn.h"
#include "goldens.h"
#include "support/check.h"

namespace cortex::nn {
namespace {

using nlohmann::json;

constexpr double kRtol = 1e-5, kAtol = 1e-6;

std::vector<std::string> golden_cases() { return testing::golden_names("layer_"); }

json load(const std::string& name) {
  std::ifstream in(std::string(CORTEX_GOLDENS_DIR) + "/layer_" + name + ".json");
  return json::parse(in);
}

using testing::tensor_of;

// {"class_name": ..., "config": ...}; a Sequential lists its layers in its config.
std::shared_ptr<Module> make_layer(const json& spec) {
  const std::string type = spec["class_name"];
  if (type != "Sequential") return layer_from_config(type, spec["config"].dump());
  auto model = std::make_shared<Sequential>();
  for (const auto& l : spec["config"]["layers"]) model->add(make_layer(l));
  return model;
}

// Every class name in a spec, Sequential's layers included; the activations of Activation layers.
void collect(const json& spec, std::set<std::string>& classes, std::set<std::string>& activations) {
  classes.insert(spec["class_name"].get<std::string>());
  if (spec["class_name"] == "Activation") activations.insert(spec["config"]["activation"].get<std::string>());
  if (spec["class_name"] == "Sequential")
    for (const auto& l : spec["config"]["layers"]) collect(l, classes, activations);
}

struct GoldenCase {
  std::string name;
  backend::Backend backend;
};
void PrintTo(const GoldenCase& c, std::ostream* out) {
  *out << "layer_" << c.name << ".json on the " << (c.backend == backend::Backend::Cpu ? "cpu" : "ref") << " backend";
}

std::vector<GoldenCase> all_cases() {
  std::vector<GoldenCase> out;
  for (const auto& name : golden_cases())
    for (auto b : {backend::Backend::Cpu, backend::Backend::Ref}) out.push_back({name, b});
  return out;
}

class Golden : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(Golden, MatchesPyTorch) {
  const auto& [name, which] = GetParam();
  backend::BackendScope scope(which);
  json g = load(name);
  std::shared_ptr<Module> layer = make_layer(g["layer"]);
  Tensor x = tensor_of(g["input"]);
  layer->build(x.shape());
  layer->train(g["training"].get<bool>());
  NamedTensors state;
  for (const auto& [n, t] : g["params"].items()) state.emplace_back(n, tensor_of(t));
  for (const auto& [n, t] : g["buffers"].items()) state.emplace_back(n, tensor_of(t));
  // The files name a Sequential's parameters by position ("0.kernel"), as model files of format 1 do.
  if (auto* seq = dynamic_cast<Sequential*>(layer.get())) state = seq->named_by_position(state);
  layer->load_state_dict(state);

  x.set_requires_grad(true);
  Tensor y = (*layer)(x);
  {
    SCOPED_TRACE(name + ": output");
    EXPECT_ALL_CLOSE(y, tensor_of(g["output"]), kRtol, kAtol);
  }
  y.backward(tensor_of(g["upstream"]));
  {
    SCOPED_TRACE(name + ": gradient of the input");
    ASSERT_TRUE(x.grad().defined());
    EXPECT_ALL_CLOSE(x.grad(), tensor_of(g["grad_input"]), kRtol, kAtol);
  }
  NamedTensors params = layer->named_parameters();
  EXPECT_EQ(params.size(), g["grads"].size()) << name << ": a parameter without a golden gradient, or the reverse";
  NamedTensors golden_grads, golden_buffers;
  for (const auto& [n, t] : g["grads"].items()) golden_grads.emplace_back(n, tensor_of(t));
  const json& after = g.contains("buffers_after") ? g["buffers_after"] : g["buffers"];
  for (const auto& [n, t] : after.items()) golden_buffers.emplace_back(n, tensor_of(t));
  if (auto* seq = dynamic_cast<Sequential*>(layer.get())) {
    golden_grads = seq->named_by_position(golden_grads);
    golden_buffers = seq->named_by_position(golden_buffers);
  }
  auto lookup = [](const NamedTensors& named, const std::string& n) {
    for (const auto& [k, t] : named)
      if (k == n) return t;
    return Tensor();
  };
  for (const auto& [n, p] : params) {
    SCOPED_TRACE(name + ": gradient of " + n);
    Tensor want = lookup(golden_grads, n);
    ASSERT_TRUE(want.defined());
    ASSERT_TRUE(p.grad().defined());
    EXPECT_ALL_CLOSE(p.grad(), want, kRtol, kAtol);
  }
  // Buffers move in training only (BatchNormalization's moving averages); else they stay as loaded.
  NamedTensors buffers = layer->named_buffers();
  EXPECT_EQ(buffers.size(), golden_buffers.size()) << name;
  for (const auto& [n, b] : buffers) {
    SCOPED_TRACE(name + ": buffer " + n + " after the step");
    Tensor want = lookup(golden_buffers, n);
    ASSERT_TRUE(want.defined());
    EXPECT_ALL_CLOSE(b, want, kRtol, kAtol);
  }
}

// The files are made by hand; a lost one must fail, not shrink the suite.
TEST(Golden, EveryLayerHasGoldens) {
  std::set<std::string> classes, activations;
  bool bn_train = false, bn_eval = false;
  for (const auto& name : golden_cases()) {
    json g = load(name);
    collect(g["layer"], classes, activations);
    if (g["layer"]["class_name"] == "BatchNormalization") (g["training"].get<bool>() ? bn_train : bn_eval) = true;
  }
  EXPECT_EQ(classes, (std::set<std::string>{"Dense", "Conv2D", "MaxPooling2D", "AveragePooling2D",
                                            "GlobalAveragePooling2D", "Dropout", "Flatten", "Reshape", "Activation",
                                            "ReLU", "Softmax", "BatchNormalization", "Sequential"}));
  EXPECT_EQ(activations, (std::set<std::string>{"linear", "relu", "sigmoid", "tanh", "softmax", "log_softmax", "elu",
                                                "selu", "gelu", "softplus", "swish", "silu", "leaky_relu"}));
  EXPECT_TRUE(bn_train && bn_eval);
  EXPECT_GE(golden_cases().size(), 33u);
}

// Dropout in training is random, so it has no golden: its gradient must be
// the upstream gradient through the same mask, scaled by 1 / (1 - rate).
TEST(Golden, DropoutGradientFollowsItsMask) {
  for (auto which : {backend::Backend::Cpu, backend::Backend::Ref}) {
    backend::BackendScope scope(which);
    Dropout d(0.25);
    d.set_generator(std::make_shared<Generator>(7));
    Generator g(3);
    Tensor x = uniform({64, 32}, 0.5, 1.5, g);  // never 0, so a kept element is never 0
    x.set_requires_grad(true);
    Tensor up = randn({64, 32}, g);
    Tensor y = d(x);
    y.backward(up);
    std::vector<float> xv = x.to_vector<float>(), yv = y.to_vector<float>(), uv = up.to_vector<float>(),
                       gv = x.grad().to_vector<float>();
    std::size_t kept = 0;
    for (std::size_t i = 0; i < xv.size(); ++i) {
      bool keep = yv[i] != 0.0f;
      kept += keep;
      float want_y = keep ? xv[i] / 0.75f : 0.0f, want_g = keep ? uv[i] / 0.75f : 0.0f;
      EXPECT_NEAR(yv[i], want_y, 1e-6 * (1 + std::fabs(want_y))) << i;
      EXPECT_NEAR(gv[i], want_g, 1e-6 * (1 + std::fabs(want_g))) << i;
    }
    EXPECT_NEAR(static_cast<double>(kept) / xv.size(), 0.75, 0.05);
  }
}

INSTANTIATE_TEST_SUITE_P(Layers, Golden, ::testing::ValuesIn(all_cases()), [](const auto& info) {
  return info.param.name + (info.param.backend == backend::Backend::Cpu ? "_cpu" : "_ref");
});

}  // namespace
}  // namespace cortex::nn
