// state()/load_state(): a fresh optimizer given another's state continues
// with bit-identical updates; make_optimizer and configs round-trip.
#include "cortex/optim/optim.h"
#include "support/check.h"

namespace cortex::optim {
namespace {

const Shape kShapes[] = {{3, 4}, {4}, {2, 2, 2}};

// One optimizer of each kind, with every slot it can have switched on.
std::vector<std::string> configs() {
  std::vector<std::unique_ptr<Optimizer>> all;
  all.push_back(std::make_unique<SGD>(SGDOptions{.learning_rate = 0.1, .momentum = 0.9, .nesterov = true}));
  all.push_back(std::make_unique<Adadelta>());
  all.push_back(std::make_unique<Adagrad>(AdagradOptions{.learning_rate = 0.1, .clipvalue = 0.5}));
  all.push_back(std::make_unique<RMSprop>(RMSpropOptions{.momentum = 0.5, .centered = true, .weight_decay = 0.01}));
  all.push_back(std::make_unique<Adam>(AdamOptions{.amsgrad = true, .clipnorm = 1.0}));
  all.push_back(std::make_unique<AdamW>(AdamWOptions{
      .learning_rate = CosineDecay({.initial_learning_rate = 0.0, .decay_steps = 4, .warmup_target = 0.01,
                                    .warmup_steps = 2}),
      .global_clipnorm = 2.0}));
  std::vector<std::string> out;
  for (const auto& o : all) out.push_back(o->config_json());
  return out;
}

std::vector<Tensor> leaves(const std::vector<Tensor>& values) {
  std::vector<Tensor> out;
  for (const auto& v : values) {
    Tensor p = v.clone().detach();
    p.set_requires_grad(true);
    out.push_back(p);
  }
  return out;
}

void take_step(Optimizer& opt, const std::vector<Tensor>& grads) {
  auto params = opt.params();
  for (std::size_t i = 0; i < params.size(); ++i) params[i].set_grad(grads[i].clone());
  opt.step();
}

void expect_bit_equal(const Tensor& a, const Tensor& b, const std::string& what) {
  ASSERT_EQ(a.shape(), b.shape()) << what;
  ASSERT_EQ(a.dtype(), b.dtype()) << what;
  EXPECT_EQ(a.to(DType::f64).to_vector<double>(), b.to(DType::f64).to_vector<double>()) << what;
}

class StateRoundTrip : public ::testing::TestWithParam<std::string> {};

TEST_P(StateRoundTrip, ResumedOptimizerContinuesBitForBit) {
  Generator gen(7);
  std::vector<Tensor> init;
  for (const auto& s : kShapes) init.push_back(randn(s, gen));
  std::vector<std::vector<Tensor>> grads(6);
  for (auto& step : grads)
    for (const auto& s : kShapes) step.push_back(randn(s, gen) * 3.0);

  auto a = optimizer_from_config(GetParam());
  a->set_params(leaves(init));
  for (int step = 0; step < 3; ++step) take_step(*a, grads[step]);
  NamedTensors saved = a->state();
  std::vector<Tensor> saved_copy;
  for (const auto& [name, t] : saved) saved_copy.push_back(t.clone());

  auto b = optimizer_from_config(a->config_json());
  b->set_params(leaves(a->params()));
  b->load_state(saved);
  EXPECT_EQ(b->iterations(), 3);
  EXPECT_EQ(b->learning_rate(), a->learning_rate());
  for (int step = 3; step < 6; ++step) {
    take_step(*a, grads[step]);
    take_step(*b, grads[step]);
    for (std::size_t i = 0; i < init.size(); ++i)
      expect_bit_equal(b->params()[i], a->params()[i], "step " + std::to_string(step) + " parameter " +
                                                           std::to_string(i));
  }
  NamedTensors sa = a->state(), sb = b->state();
  ASSERT_EQ(sa.size(), sb.size());
  for (std::size_t k = 0; k < sa.size(); ++k) {
    EXPECT_EQ(sa[k].first, sb[k].first);
    expect_bit_equal(sb[k].second, sa[k].second, sa[k].first);
  }
  // A state taken earlier is a snapshot: later steps did not write into it.
  for (std::size_t k = 0; k < saved.size(); ++k) expect_bit_equal(saved[k].second, saved_copy[k], saved[k].first);
}

INSTANTIATE_TEST_SUITE_P(Optim, StateRoundTrip, ::testing::ValuesIn(configs()), [](const auto& info) {
  return std::to_string(info.index) + "_" + optimizer_from_config(info.param)->name();
});

TEST(State, NamesSlotsPerParameter) {
  Adam adam({.amsgrad = true});
  std::vector<Tensor> params = leaves({zeros({2}), zeros({3})});
  adam.set_params(params);
  std::vector<std::string> names;
  for (const auto& [name, t] : adam.state()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"iterations", "learning_rate", "m.0", "m.1", "v.0", "v.1", "v_hat.0",
                                             "v_hat.1"}));
  EXPECT_EQ(adam.state()[0].second.dtype(), DType::i64);
  EXPECT_EQ(adam.state()[1].second.dtype(), DType::f64);
  EXPECT_EQ(adam.state()[1].second.item(), 0.001);
  EXPECT_EQ(adam.state()[3].second.shape(), (Shape{3}));
  EXPECT_EQ(SGD().slot_names().size(), 0u);  // plain SGD keeps no state but the counters
  EXPECT_EQ(Adagrad().slot_names(), (std::vector<std::string>{"accumulator"}));
}

TEST(State, LoadRestoresFixedLearningRate) {
  SGD a({.learning_rate = 0.1}), b({.learning_rate = 0.1});
  a.set_params(leaves({zeros({2})}));
  b.set_params(leaves({zeros({2})}));
  a.set_learning_rate(0.02);  // as ReduceLROnPlateau would
  b.load_state(a.state());
  EXPECT_EQ(b.learning_rate(), 0.02);
}

TEST(Factory, MakeOptimizerByName) {
  for (const auto& name : optimizer_names()) {
    auto opt = make_optimizer(name, 0.05);
    EXPECT_EQ(opt->learning_rate(), 0.05) << name;
    EXPECT_EQ(optimizer_from_config(opt->config_json())->config_json(), opt->config_json()) << name;
  }
  EXPECT_EQ(make_optimizer("ADAM", 0.1)->name(), "Adam");
  EXPECT_EQ(make_optimizer("adadelta")->learning_rate(), 1.0);  // the lecture's Keras 2 default
  EXPECT_EQ(make_optimizer("sgd")->learning_rate(), 0.01);
  EXPECT_EQ(optimizer_from_config("\"rmsprop\"")->name(), "RMSprop");
}

TEST(Factory, AcceptsKerasConfigKeys) {
  auto opt = optimizer_from_config(R"({"class_name": "Adam", "module": "keras.optimizers", "config": {
      "name": "adam", "learning_rate": 0.002, "use_ema": false, "ema_momentum": 0.99,
      "ema_overwrite_frequency": null, "loss_scale_factor": null, "gradient_accumulation_steps": null,
      "beta_1": 0.8}})");
  EXPECT_EQ(opt->learning_rate(), 0.002);
  EXPECT_NE(opt->config_json().find("\"beta_1\":0.8"), std::string::npos) << opt->config_json();
}

// Keras's global clip divides by the norm: a zero gradient must not make NaNs.
TEST(Clipping, ZeroGradientStaysFinite) {
  for (const char* config : {R"({"class_name": "SGD", "config": {"global_clipnorm": 1.0}})",
                             R"({"class_name": "SGD", "config": {"clipnorm": 1.0}})"}) {
    auto opt = optimizer_from_config(config);
    std::vector<Tensor> params = leaves({ones({3})});
    opt->set_params(params);
    params[0].set_grad(zeros({3}));
    opt->step();
    EXPECT_ALL_CLOSE(params[0], ones({3}), 0, 0);
  }
}

TEST(Optimizer, ZeroGradDropsGradients) {
  Adam adam;
  std::vector<Tensor> params = leaves({zeros({2}), zeros({2})});
  adam.set_params(params);
  params[0].set_grad(ones({2}));
  adam.zero_grad();
  EXPECT_FALSE(params[0].grad().defined());
  EXPECT_FALSE(params[1].grad().defined());
}

}  // namespace
}  // namespace cortex::optim
