// Functional models with several inputs and outputs through compile / fit /
// evaluate / predict: a loss and a weight per output, metrics per output,
// validation, saving, and the errors for what does not fit.
#include <cmath>
#include <filesystem>

#include "cortex/cortex.h"
#include "support/check.h"

namespace cortex::train {
namespace {

// Two inputs; "kind" classifies from both (3 classes), "size" regresses from the second alone.
struct TwoHeads {
  std::shared_ptr<nn::Dense> size_tower;  // reaches only the "size" output
  std::unique_ptr<Model> model;
  std::vector<Tensor> x, y;

  explicit TwoHeads(std::vector<double> weights = {1.0, 0.5}, std::uint64_t seed = 1) {
    auto a = nn::Input({4}, "a"), b = nn::Input({3}, "b");
    auto joined = nn::Concatenate()({a, b});
    auto kind = std::make_shared<nn::Dense>(nn::DenseOptions{.units = 3, .activation = "softmax"});
    kind->set_name("kind");
    size_tower = std::make_shared<nn::Dense>(nn::DenseOptions{.units = 8, .activation = "tanh"});
    auto size = std::make_shared<nn::Dense>(nn::DenseOptions{.units = 1});
    size->set_name("size");
    model = std::make_unique<Model>(std::vector<nn::Symbolic>{a, b},
                                    std::vector<nn::Symbolic>{(*kind)(joined), (*size)((*size_tower)(b))}, seed);
    model->compile({.losses = {"sparse_categorical_crossentropy", "mse"},
                    .loss_weights = weights,
                    .optimizer = std::make_shared<optim::Adam>(1e-2),
                    .metrics = {"accuracy"}});
    Generator gen(2);
    const std::int64_t n = 96;
    Tensor xa = randn({n, 4}, gen), xb = randn({n, 3}, gen);
    // class: which of three sums is largest; size: a smooth function of b
    Tensor scores = concat({sum(xa.slice(1, 0, 2), {1}, true), sum(xa.slice(1, 2, 4), {1}, true), sum(xb, {1}, true)}, 1);
    x = {xa, xb};
    y = {argmax(scores, 1).to(DType::f32), tanh(xb.slice(1, 0, 1) - xb.slice(1, 1, 2) * 0.5)};
  }
};

TEST(MultiOutput, LogsEachOutputsLossAndMetricsAndTheWeightedTotal) {
  TwoHeads t;
  EXPECT_EQ(t.model->num_inputs(), 2u);
  EXPECT_EQ(t.model->output_names(), (std::vector<std::string>{"kind", "size"}));
  History h = t.model->fit(t.x, t.y, {.batch_size = 16, .epochs = 30, .verbose = 0});
  for (const char* k : {"loss", "kind_loss", "size_loss", "kind_accuracy", "size_accuracy"})
    EXPECT_EQ(h.history.count(k), 1u) << k;
  EXPECT_LT(h.history["kind_loss"].back(), 0.5 * h.history["kind_loss"].front());
  EXPECT_LT(h.history["size_loss"].back(), 0.5 * h.history["size_loss"].front());
  EXPECT_GT(h.history["kind_accuracy"].back(), 0.8);

  // evaluate's total is the weighted sum, and each output's loss is what the loss gives on predict's outputs.
  Logs e = t.model->evaluate(t.x, t.y, {.batch_size = 32});
  EXPECT_NEAR(e["loss"], e["kind_loss"] + 0.5 * e["size_loss"], 1e-5);
  std::vector<Tensor> p = t.model->predict(t.x, 40);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].shape(), (Shape{96, 3}));
  EXPECT_NEAR(e["kind_loss"],
              losses::compute(losses::loss_by_name("sparse_categorical_crossentropy"), t.y[0], p[0]).item(), 1e-5);
  EXPECT_NEAR(e["size_loss"], losses::compute(losses::loss_by_name("mse"), t.y[1], p[1]).item(), 1e-5);
}

// A weight of 0 takes an output out of the gradient: the layer only it reaches stays as it was.
TEST(MultiOutput, AZeroWeightLeavesThatOutputsOwnLayerUntouched) {
  TwoHeads t({1.0, 0.0});
  t.model->network().build({});
  const Tensor before = t.size_tower->named_parameters()[0].second.clone();
  t.model->fit(t.x, t.y, {.batch_size = 16, .epochs = 2, .verbose = 0});
  EXPECT_ALL_CLOSE(t.size_tower->named_parameters()[0].second, before, 0, 0);
  TwoHeads u({1.0, 1.0});
  u.model->network().build({});
  const Tensor start = u.size_tower->named_parameters()[0].second.clone();
  u.model->fit(u.x, u.y, {.batch_size = 16, .epochs = 2, .verbose = 0});
  EXPECT_GT(max(abs(u.size_tower->named_parameters()[0].second - start)).item(), 1e-4);
}

TEST(MultiOutput, ValidationListsAndSplit) {
  TwoHeads t;
  History h = t.model->fit(t.x, t.y, {.batch_size = 16, .epochs = 1, .verbose = 0, .validation_split = 0.25});
  for (const char* k : {"val_loss", "val_kind_loss", "val_size_loss", "val_kind_accuracy"})
    EXPECT_EQ(h.history.count(k), 1u) << k;
  std::vector<Tensor> vx{t.x[0].slice(0, 0, 10), t.x[1].slice(0, 0, 10)}, vy{t.y[0].slice(0, 0, 10), t.y[1].slice(0, 0, 10)};
  History v = t.model->fit(t.x, t.y, {.batch_size = 16, .epochs = 1, .verbose = 0, .validation_lists = std::make_pair(vx, vy)});
  const Logs e = t.model->evaluate(vx, vy);
  EXPECT_NEAR(v.history["val_loss"][0], e.at("loss"), 1e-6);
}

TEST(MultiOutput, SavedLossesAndWeightsComeBack) {
  TwoHeads t({0.3, 2.0});
  t.model->fit(t.x, t.y, {.batch_size = 16, .epochs = 2, .verbose = 0});
  const auto path = std::filesystem::temp_directory_path() / "cortex_multi_output_test.cortex";
  t.model->save(path.string());
  auto loaded = load_model(path.string());
  const Logs a = t.model->evaluate(t.x, t.y), b = loaded->evaluate(t.x, t.y);
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [k, v] : a) EXPECT_NEAR(b.at(k), v, 1e-6) << k;
  EXPECT_NEAR(b.at("loss"), 0.3 * b.at("kind_loss") + 2.0 * b.at("size_loss"), 1e-5);
  std::filesystem::remove(path);
}

TEST(MultiOutput, WhatDoesNotFitIsNamed) {
  TwoHeads t;
  auto a = nn::Input({4}, "a"), b = nn::Input({3}, "b");
  Model m({a, b}, {nn::Dense({.units = 1})(nn::Concatenate()({a, b})), nn::Dense({.units = 1})(b)});
  EXPECT_ERROR_CONTAINS(m.compile({.losses = {"mse"}}), ValueError, "one loss per output: the model has 2 output(s), got 1");
  EXPECT_ERROR_CONTAINS(m.compile({.loss = "mse", .loss_weights = {1.0}}), ValueError, "one loss weight per output");
  EXPECT_ERROR_CONTAINS(m.compile({.loss = "mse", .loss_weights = {1.0, -1.0}}), ValueError, "weights >= 0, got -1");
  EXPECT_ERROR_CONTAINS(t.model->fit({t.x[0]}, t.y, {.verbose = 0}), ValueError,
                        "2 input(s) and 2 output(s), got 1 and 2");
  EXPECT_ERROR_CONTAINS(t.model->fit(t.x, {t.y[0], t.y[1].slice(0, 0, 5)}, {.verbose = 0}), ShapeError,
                        "the same number of samples");
  EXPECT_ERROR_CONTAINS(t.model->predict(t.x[0]), ValueError, "one tensor per input: the model has 2 input(s), got 1");
  EXPECT_ERROR_CONTAINS(t.model->fit(t.x, t.y, {.verbose = 0, .report_dir = "/tmp/never"}), ValueError,
                        "one input and one output");
}

// One input, two outputs: predict(x) refuses to drop the second.
TEST(MultiOutput, PredictOfOneTensorNeedsOneOutput) {
  auto a = nn::Input({2}, "a");
  Model m({a}, {nn::Dense({.units = 1})(a), nn::Dense({.units = 2})(a)});
  EXPECT_ERROR_CONTAINS(m.predict(zeros({3, 2})), ValueError, "this model has 2 outputs: call predict({x, ...})");
  EXPECT_EQ(m.predict(std::vector<Tensor>{zeros({3, 2})})[1].shape(), (Shape{3, 2}));
}

}  // namespace
}  // namespace cortex::train
