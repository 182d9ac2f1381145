// Learning-rate schedules: values at chosen steps (worked out by hand from
// Keras's formulas), configs, and how an optimizer follows them.
#include <cmath>

#include "cortex/optim/optim.h"
#include "support/check.h"

namespace cortex::optim {
namespace {

TEST(Schedule, ExponentialDecay) {
  ExponentialDecay smooth({.initial_learning_rate = 0.1, .decay_steps = 10, .decay_rate = 0.5});
  EXPECT_DOUBLE_EQ(smooth(0), 0.1);
  EXPECT_NEAR(smooth(5), 0.1 * std::sqrt(0.5), 1e-15);
  EXPECT_DOUBLE_EQ(smooth(10), 0.05);
  EXPECT_NEAR(smooth(25), 0.0176776695296637, 1e-15);
  ExponentialDecay stairs({0.1, 10, 0.5, true});  // positional, as Keras's arguments
  EXPECT_DOUBLE_EQ(stairs(9), 0.1);
  EXPECT_DOUBLE_EQ(stairs(19), 0.05);
  EXPECT_DOUBLE_EQ(stairs(20), 0.025);
}

TEST(Schedule, CosineDecay) {
  CosineDecay cosine({.initial_learning_rate = 1.0, .decay_steps = 100, .alpha = 0.1});
  EXPECT_DOUBLE_EQ(cosine(0), 1.0);
  EXPECT_NEAR(cosine(25), 0.868198051533946, 1e-12);  // 0.9 * (1 + cos(pi / 4)) / 2 + 0.1
  EXPECT_NEAR(cosine(50), 0.55, 1e-12);
  EXPECT_NEAR(cosine(100), 0.1, 1e-12);
  EXPECT_NEAR(cosine(1000), 0.1, 1e-12);  // stays at alpha * initial
}

TEST(Schedule, CosineDecayWithWarmup) {
  CosineDecay warm({.initial_learning_rate = 0.0, .decay_steps = 100, .warmup_target = 1.0, .warmup_steps = 10});
  EXPECT_DOUBLE_EQ(warm(0), 0.0);
  EXPECT_DOUBLE_EQ(warm(5), 0.5);
  EXPECT_DOUBLE_EQ(warm(10), 1.0);  // the peak, where the cosine starts
  EXPECT_NEAR(warm(60), 0.5, 1e-12);
  EXPECT_NEAR(warm(110), 0.0, 1e-12);
  EXPECT_NEAR(warm(5000), 0.0, 1e-12);
}

TEST(Schedule, PiecewiseConstantDecay) {
  PiecewiseConstantDecay steps({.boundaries = {100, 200}, .values = {1.0, 0.5, 0.1}});
  EXPECT_EQ(steps(0), 1.0);
  EXPECT_EQ(steps(100), 1.0);  // boundaries are inclusive, as in Keras
  EXPECT_EQ(steps(101), 0.5);
  EXPECT_EQ(steps(200), 0.5);
  EXPECT_EQ(steps(201), 0.1);
  EXPECT_EQ(steps(1000000), 0.1);
}

TEST(Schedule, LambdaWrapsACallable) {
  LambdaSchedule inverse([](std::int64_t step) { return 1.0 / (1.0 + static_cast<double>(step)); }, "inverse");
  EXPECT_DOUBLE_EQ(inverse(0), 1.0);
  EXPECT_DOUBLE_EQ(inverse(3), 0.25);
  EXPECT_EQ(inverse.config_json(), R"({"class_name":"LambdaSchedule","config":{"label":"inverse"}})");
}

TEST(Schedule, ConfigRoundTrip) {
  std::vector<std::shared_ptr<const LearningRateSchedule>> all{
      std::make_shared<ExponentialDecay>(ExponentialDecayOptions{0.1, 7, 0.3, true}),
      std::make_shared<CosineDecay>(CosineDecayOptions{0.01, 50, 0.2, 0.5, 5}),
      std::make_shared<CosineDecay>(CosineDecayOptions{.initial_learning_rate = 0.01, .decay_steps = 50}),
      std::make_shared<PiecewiseConstantDecay>(PiecewiseConstantDecayOptions{{3, 9}, {0.3, 0.2, 0.1}}),
  };
  for (const auto& s : all) {
    auto back = schedule_from_config(s->config_json());
    EXPECT_EQ(back->name(), s->name());
    EXPECT_EQ(back->config_json(), s->config_json());
    for (std::int64_t step : {0, 1, 4, 9, 30, 60, 100}) EXPECT_EQ((*back)(step), (*s)(step)) << s->name();
  }
}

// The rate of an update is the schedule at the iterations done before it.
TEST(Schedule, OptimizerEvaluatesAtItsIterationCount) {
  SGD sgd({.learning_rate = PiecewiseConstantDecay({.boundaries = {1}, .values = {1.0, 0.5}})});
  Tensor p = zeros({1});
  p.set_requires_grad(true);
  sgd.set_params({p});
  const double expected[] = {-1.0, -2.0, -2.5, -3.0};  // rates 1, 1, 0.5, 0.5
  for (double value : expected) {
    p.set_grad(ones({1}));
    sgd.step();
    EXPECT_DOUBLE_EQ(p.item(), value) << "after " << sgd.iterations() << " steps";
  }
  EXPECT_EQ(sgd.learning_rate(), 0.5);
  EXPECT_THROW(sgd.set_learning_rate(0.1), ValueError);  // Keras: not settable with a schedule
  auto back = optimizer_from_config(sgd.config_json());
  EXPECT_EQ(back->config_json(), sgd.config_json());
  ASSERT_TRUE(back->schedule());
  EXPECT_EQ(back->schedule()->name(), "PiecewiseConstantDecay");
}

// ReduceLROnPlateau's path: a fixed rate can be changed between steps.
TEST(Schedule, SetLearningRateTakesEffect) {
  SGD sgd({.learning_rate = 1.0});
  Tensor p = zeros({2});
  p.set_requires_grad(true);
  sgd.set_params({p});
  p.set_grad(ones({2}));
  sgd.step();
  sgd.set_learning_rate(0.25);
  EXPECT_EQ(sgd.learning_rate(), 0.25);
  sgd.step();
  EXPECT_ALL_CLOSE(p, full({2}, -1.25), 0, 0);
  EXPECT_NE(sgd.config_json().find("\"learning_rate\":0.25"), std::string::npos) << sgd.config_json();
}

// Keras's positional form: Adam(1e-3) is Adam({.learning_rate = 1e-3}), every
// other option at its default, and a schedule goes the same way.
TEST(Schedule, PositionalLearningRate) {
  const std::vector<std::pair<std::shared_ptr<Optimizer>, std::shared_ptr<Optimizer>>> pairs = {
      {std::make_shared<SGD>(0.3), std::make_shared<SGD>(SGDOptions{.learning_rate = 0.3})},
      {std::make_shared<Adadelta>(0.3), std::make_shared<Adadelta>(AdadeltaOptions{.learning_rate = 0.3})},
      {std::make_shared<Adagrad>(0.3), std::make_shared<Adagrad>(AdagradOptions{.learning_rate = 0.3})},
      {std::make_shared<RMSprop>(0.3), std::make_shared<RMSprop>(RMSpropOptions{.learning_rate = 0.3})},
      {std::make_shared<Adam>(0.3), std::make_shared<Adam>(AdamOptions{.learning_rate = 0.3})},
      {std::make_shared<AdamW>(0.3), std::make_shared<AdamW>(AdamWOptions{.learning_rate = 0.3})},
  };
  for (const auto& [positional, designated] : pairs) {
    EXPECT_EQ(positional->learning_rate(), 0.3) << positional->name();
    EXPECT_EQ(positional->config_json(), designated->config_json());
  }
  // Only the rate moved: Adadelta's default rate is 1.0, and its rho stays 0.95.
  EXPECT_NE(Adadelta(0.3).config_json(), Adadelta().config_json());
  EXPECT_NE(Adadelta(0.3).config_json().find("\"rho\":0.95"), std::string::npos) << Adadelta(0.3).config_json();
  Adam scheduled(ExponentialDecay({.initial_learning_rate = 0.1, .decay_steps = 10, .decay_rate = 0.5}));
  ASSERT_TRUE(scheduled.schedule());
  EXPECT_EQ(scheduled.schedule()->name(), "ExponentialDecay");
  EXPECT_THROW(SGD(-1.0), ValueError);
}

}  // namespace
}  // namespace cortex::optim
