// Model: fit learns, save/load round trips, resume is bit-exact, bad input is refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>

#include "cortex/io/tensor_file.h"
#include "support.h"
#include "support/check.h"

namespace cortex::train {
namespace {

using testing::temp_path;
using testing::tiny_data;
using testing::tiny_model;

TEST(Model, FitLearnsATinyRuleAndReportsHistory) {
  auto m = tiny_model(3, 0.0);
  auto [x, y] = tiny_data(512);
  auto [vx, vy] = tiny_data(128, 9);
  History h = m->fit(x, y, {.batch_size = 32, .epochs = 15, .verbose = 0, .validation_data = std::make_pair(vx, vy)});
  ASSERT_EQ(h.history["loss"].size(), 15u);
  EXPECT_LT(h.history["loss"].back(), h.history["loss"].front() * 0.5);
  EXPECT_GT(h.history["val_accuracy"].back(), 0.85);
  Logs score = m->evaluate(vx, vy);
  EXPECT_NEAR(score["accuracy"], h.history["val_accuracy"].back(), 1e-9);
  Tensor p = m->predict(vx, 50);
  EXPECT_EQ(p.shape(), (Shape{128, 3}));
  EXPECT_ALL_CLOSE(sum(p, {1}), ones({128}), 1e-5, 1e-5);
}

TEST(Model, ValidationSplitTakesTheLastFraction) {
  auto m = tiny_model();
  auto [x, y] = tiny_data(100);
  History h = m->fit(x, y, {.batch_size = 10, .epochs = 1, .verbose = 0, .validation_split = 0.2});
  EXPECT_EQ(h.history.count("val_loss"), 1u);
  Logs tail = m->evaluate(x.slice(0, 80, 100), y.slice(0, 80, 100));
  EXPECT_NEAR(h.history["val_loss"][0], tail["loss"], 1e-6);
}

TEST(Model, SaveLoadGivesIdenticalOutputs) {
  auto m = tiny_model(5);
  auto [x, y] = tiny_data(64);
  m->fit(x, y, {.batch_size = 16, .epochs = 2, .verbose = 0});
  std::string path = temp_path("saved.cortex");
  m->save(path);
  std::unique_ptr<Model> back = load_model(path);
  EXPECT_EQ(back->predict(x).to_vector<float>(), m->predict(x).to_vector<float>());
  EXPECT_EQ(back->loss_name(), "categorical_crossentropy");
  EXPECT_EQ(back->epoch(), 2);
  EXPECT_EQ(back->evaluate(x, y)["accuracy"], m->evaluate(x, y)["accuracy"]);
}

// Files of format 1 named a Sequential's parameters by position ("model.0.kernel"); they still load.
TEST(Model, FilesWithPositionalNamesStillLoad) {
  auto m = tiny_model(5);
  auto [x, y] = tiny_data(64);
  m->fit(x, y, {.batch_size = 16, .epochs = 1, .verbose = 0});
  const std::string path = temp_path("named.cortex"), old_path = temp_path("positional.cortex");
  m->save(path);
  io::TensorFile f = io::load_tensors(path);
  EXPECT_EQ(f.metadata["format"], "cortex-model-2");
  const auto& layers = dynamic_cast<nn::Sequential&>(m->network()).layers();
  std::vector<std::pair<std::string, Tensor>> old;
  for (auto [name, t] : f.tensors) {
    for (std::size_t i = 0; i < layers.size(); ++i) {
      const std::string prefix = "model." + layers[i]->name() + ".";
      if (name.rfind(prefix, 0) == 0) name = "model." + std::to_string(i) + "." + name.substr(prefix.size());
    }
    old.emplace_back(name, t);
  }
  ASSERT_EQ(old[0].first, "model.0.kernel");
  f.metadata["format"] = "cortex-model-1";
  io::save_tensors(old_path, old, f.metadata);
  std::unique_ptr<Model> back = load_model(old_path);
  EXPECT_EQ(back->predict(x).to_vector<float>(), m->predict(x).to_vector<float>());
  f.metadata["format"] = "cortex-model-9";
  io::save_tensors(old_path, old, f.metadata);
  EXPECT_THROW(load_model(old_path), ValueError);
}

TEST(Model, ResumedTrainingMatchesAnUninterruptedRunBitForBit) {
  auto [x, y] = tiny_data(96);
  auto whole = tiny_model(11);
  whole->fit(x, y, {.batch_size = 16, .epochs = 4, .verbose = 0, .seed = 4});

  auto first = tiny_model(11);
  std::string ck = temp_path("resume.cortex");
  first->fit(x, y, {.batch_size = 16, .epochs = 2, .verbose = 0,
                    .callbacks = {std::make_shared<ModelCheckpoint>(ModelCheckpointOptions{.filepath = ck})},
                    .seed = 4});
  auto resumed = tiny_model(11);
  resumed->fit(x, y, {.batch_size = 16, .epochs = 4, .verbose = 0, .seed = 4, .resume_from = ck});
  auto a = whole->network().state_dict(), b = resumed->network().state_dict();
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i)
    EXPECT_EQ(a[i].second.to_vector<float>(), b[i].second.to_vector<float>()) << a[i].first;
}

TEST(Model, BadInputsGetClearErrors) {
  auto m = tiny_model();
  auto [x, y] = tiny_data(8);
  try {
    m->fit(zeros({8, 5}), y, {.verbose = 0});
    FAIL() << "an input the model cannot take must be refused";
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("(batch, 4)"), std::string::npos) << e.what();
  }
  EXPECT_THROW(m->fit(x, y.slice(0, 0, 4), {.verbose = 0}), ShapeError);
  auto uncompiled = std::make_unique<Model>(std::make_shared<nn::Sequential>(
      std::initializer_list<nn::Layer>{nn::Input({4}), nn::Dense({.units = 2})}));
  EXPECT_THROW(uncompiled->fit(x, y, {.verbose = 0}), ValueError);
  EXPECT_THROW(m->compile({.loss = "crossentropy"}), ValueError);
  EXPECT_THROW(m->compile({.loss = "mse", .metrics = {"precision@k"}}), ValueError);

  std::string path = temp_path("corrupt.cortex");
  m->save(path);
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));  // truncated
  }
  EXPECT_THROW(load_model(path), Error);
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << "this is not a model";
  }
  EXPECT_THROW(load_model(path), Error);
  EXPECT_THROW(load_model(temp_path("missing.cortex")), Error);
}

TEST(Model, EmptyDataBadCountsAndBatchSizesAreRefused) {
  auto m = tiny_model();
  auto [x, y] = tiny_data(4);
  // A batch size below 1 would loop for ever (0) or walk backwards (-1).
  EXPECT_THROW(m->predict(x, 0), ValueError);
  EXPECT_THROW(m->predict(x, -1), ValueError);
  EXPECT_EQ(m->predict(x, std::numeric_limits<std::int64_t>::max()).shape(), (Shape{4, 3}));
  EXPECT_EQ(m->predict(x, 3).shape(), (Shape{4, 3}));
  // No samples: no loss to report (evaluate read 0.0), no training to do.
  EXPECT_THROW(m->evaluate(x.slice(0, 0, 0), y.slice(0, 0, 0)), ValueError);
  EXPECT_THROW(m->fit(x.slice(0, 0, 0), y.slice(0, 0, 0), {.verbose = 0}), ValueError);
  // 20 % of 4 samples is none: the validation would vanish from the logs without a word.
  EXPECT_THROW(m->fit(x, y, {.batch_size = 2, .verbose = 0, .validation_split = 0.2}), ValueError);
  EXPECT_THROW(m->fit(x, y, {.batch_size = 2, .epochs = -1, .verbose = 0}), ValueError);
  EXPECT_THROW(m->fit(x, y, {.batch_size = 2, .verbose = 0, .initial_epoch = -2}), ValueError);
  History h = m->fit(x, y, {.batch_size = 2, .verbose = 0, .validation_split = 0.25});
  EXPECT_EQ(h.history.count("val_loss"), 1u);
}

TEST(Model, AFileThatDoesNotFitLeavesTheModelAsItWas) {
  auto a = tiny_model(1);
  auto [x, y] = tiny_data(16);
  a->fit(x, y, {.batch_size = 8, .verbose = 0});
  const std::string p = temp_path("other.cortex");
  a->save(p);
  // Same first layer, another head: the second Dense's shapes do not fit.
  Sequential b({nn::Input({4}), nn::Dense({.units = 16, .activation = "relu"}), nn::Dropout(0.3),
                nn::Dense({.units = 5, .activation = "softmax"})},
               2);
  b.compile({.loss = "categorical_crossentropy", .optimizer = std::make_shared<optim::Adam>()});
  b.network().build({1, 4});
  const std::vector<float> first = b.network().named_parameters()[0].second.to_vector<float>();
  EXPECT_THROW(b.load_weights(p), ShapeError);
  EXPECT_EQ(b.network().named_parameters()[0].second.to_vector<float>(), first);
  EXPECT_EQ(b.epoch(), 0);
  // A training state without its fields is a clear error, before any weight moves.
  auto f = io::load_tensors(p);
  for (const char* state : {"{}", R"({"epoch": -3, "seed": 0, "offset": 0})", R"({"epoch": "1", "seed": 0, "offset": 0})"}) {
    f.metadata["training_state"] = state;
    io::save_tensors(p, f.tensors, f.metadata);
    auto c = tiny_model(3);
    c->network().build({1, 4});
    const std::vector<float> before = c->network().named_parameters()[0].second.to_vector<float>();
    try {
      c->load_weights(p);
      ADD_FAILURE() << "loaded training state " << state;
    } catch (const ValueError& e) {
      EXPECT_NE(std::string(e.what()).find("training_state"), std::string::npos) << e.what();
    }
    EXPECT_EQ(c->network().named_parameters()[0].second.to_vector<float>(), before);
  }
  // Weights that fit but an optimizer state that does not (Adam's into SGD with
  // momentum): the weights already copied are put back.
  f.metadata["training_state"] = R"({"epoch": 1, "seed": 0, "offset": 0})";
  io::save_tensors(p, f.tensors, f.metadata);
  auto d = tiny_model(4);
  d->compile({.loss = "categorical_crossentropy", .optimizer = std::make_shared<optim::SGD>(optim::SGDOptions{.momentum = 0.9})});
  d->network().build({1, 4});
  const std::vector<float> kept = d->network().named_parameters()[0].second.to_vector<float>();
  ASSERT_NE(kept, a->network().named_parameters()[0].second.to_vector<float>());
  EXPECT_THROW(d->load_weights(p), ValueError);
  EXPECT_EQ(d->network().named_parameters()[0].second.to_vector<float>(), kept);
  EXPECT_EQ(d->epoch(), 0);
  // Metadata nested a million deep is refused before anything recurses through it.
  f.metadata["architecture"] = std::string(1'000'000, '[') + std::string(1'000'000, ']');
  io::save_tensors(p, f.tensors, f.metadata);
  try {
    load_model(p);
    ADD_FAILURE() << "loaded a million-deep architecture";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("nests deeper than 16 levels"), std::string::npos) << e.what();
  }
}

TEST(Model, NanLossStopsTrainingAndKeepsTheLastGoodCheckpoint) {
  auto m = tiny_model();
  auto [x, y] = tiny_data(64);
  std::string ck = temp_path("nan.cortex");
  auto saver = std::make_shared<ModelCheckpoint>(ModelCheckpointOptions{.filepath = ck});
  m->fit(x, y, {.batch_size = 16, .epochs = 1, .verbose = 0, .callbacks = {saver}});
  Tensor good = load_model(ck)->predict(x);
  // Poison the inputs: the loss becomes NaN on the next epoch.
  Tensor bad = x.clone();
  {
    NoGradGuard g;
    bad.fill_(NAN);
  }
  auto nan = std::make_shared<TerminateOnNaN>();
  History h = m->fit(bad, y, {.batch_size = 16, .epochs = 3, .verbose = 0, .callbacks = {nan, saver}});
  EXPECT_TRUE(nan->terminated());
  EXPECT_EQ(h.epochs.size(), 1u);
  EXPECT_EQ(load_model(ck)->predict(x).to_vector<float>(), good.to_vector<float>());
}

TEST(Losses, BadArgumentsAreRefused) {
  // A rank-1 prediction has no class axis: shape()[1] would read past the shape.
  const losses::Loss sparse = losses::loss_by_name("sparse_categorical_crossentropy");
  EXPECT_THROW(losses::compute(sparse, from_vector<std::int64_t>({0, 1}), tensor({0.3f, 0.7f})), ShapeError);
  // delta 0 made every loss 0, a negative delta a negative loss.
  for (double delta : {0.0, -1.0, double{NAN}, double{INFINITY}})
    EXPECT_THROW(losses::huber(ones({2, 1}), zeros({2, 1}), delta), ValueError) << delta;
  EXPECT_NEAR(losses::huber(tensor({3}, {1, 1}), zeros({1, 1}), 1.0).item(), 2.5, 1e-6);  // 0.5 + (3 - 1)
}

TEST(Metrics, AccuracyVariantsTopKAndConfusionMatrix) {
  EXPECT_EQ(resolve_metric("accuracy", "sparse_categorical_crossentropy"), "sparse_categorical_accuracy");
  EXPECT_EQ(resolve_metric("accuracy", "binary_crossentropy"), "binary_accuracy");
  Tensor pred = tensor({0.1f, 0.7f, 0.2f, 0.5f, 0.3f, 0.2f}, {2, 3});
  EXPECT_EQ(metric_hits("sparse_categorical_accuracy", from_vector<std::int64_t>({1, 1}), pred), 1.0);
  EXPECT_EQ(metric_hits("categorical_accuracy", tensor({0, 1, 0, 0, 0, 1}, {2, 3}), pred), 1.0);
  EXPECT_EQ(metric_hits("binary_accuracy", tensor({1, 0}, {2, 1}), tensor({0.8f, 0.6f}, {2, 1})), 1.0);
  // "accuracy" with another loss follows the predictions, as Keras does: binary on one
  // column (categorical accuracy there is always 1), categorical otherwise.
  EXPECT_EQ(resolve_metric("accuracy", "mse"), "accuracy");
  EXPECT_EQ(metric_hits("accuracy", tensor({0, 1}, {2, 1}), tensor({0.9f, 0.1f}, {2, 1})), 0.0);
  EXPECT_EQ(metric_hits("accuracy", tensor({0, 1, 0, 0, 0, 1}, {2, 3}), pred), 1.0);
  EXPECT_THROW(metric_hits("categorical_accuracy", tensor({0, 1}, {2, 1}), tensor({0.9f, 0.1f}, {2, 1})), ShapeError);
  // Targets that do not fit the predictions are errors, not reads past the end.
  EXPECT_THROW(metric_hits("sparse_top_k_categorical_accuracy", tensor({0, 1, 0, 0, 0, 1}, {2, 3}), pred), ShapeError);
  EXPECT_THROW(metric_hits("sparse_top_k_categorical_accuracy", from_vector<std::int64_t>({1, 7}), pred), IndexError);
  EXPECT_THROW(metric_hits("sparse_categorical_accuracy", from_vector<std::int64_t>({-1, 0}), pred), IndexError);
  EXPECT_THROW(metric_hits("categorical_accuracy", tensor({0, 1, 0}, {1, 3}), pred), ShapeError);
  EXPECT_EQ(metric_hits("sparse_top_k_categorical_accuracy", tensor({2, 0}, {2, 1}), pred), 2.0);  // (N, 1) labels
  // A sigmoid's one column is class 1 from 0.5 on, with its own probability.
  EXPECT_EQ(predicted_class(tensor({0.2f, 0.7f, 0.1f}, {1, 3})), (std::pair<std::int64_t, double>{1, 0.7f}));
  EXPECT_EQ(predicted_class(tensor({0.8f}, {1, 1})), (std::pair<std::int64_t, double>{1, 0.8f}));
  EXPECT_EQ(predicted_class(tensor({0.25f}, {1, 1})), (std::pair<std::int64_t, double>{0, 0.75}));
  EXPECT_THROW(predicted_class(tensor({0.2f, 0.8f}, {2, 1})), ShapeError);
  Tensor cm = confusion_matrix(from_vector<std::int64_t>({0, 1, 1, 2}), from_vector<std::int64_t>({0, 2, 1, 2}), 3);
  EXPECT_EQ(cm.to_vector<std::int64_t>(), (std::vector<std::int64_t>{1, 0, 0, 0, 1, 1, 0, 0, 1}));
}

}  // namespace
}  // namespace cortex::train
