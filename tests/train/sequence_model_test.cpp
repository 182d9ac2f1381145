// Sequence models through compile / fit / save / load: losses and metrics over
// (N, T, C), and a recurrent Sequential that learns and round-trips.
#include <gtest/gtest.h>

#include "cortex/train/metrics.h"
#include "support.h"
#include "support/check.h"

namespace cortex::train {
namespace {

using testing::temp_path;

// Sequences: each step is a row; the loss is the mean over all rows, and a
// sample's accuracy is the fraction of its steps that are right.
TEST(SequenceLoss, StepsAreRowsAndAccuracyIsPerStep) {
  Generator g(4);
  Tensor logits = randn({2, 3, 4}, g), labels = from_vector<std::int64_t>({0, 1, 2, 3, 3, 3}, {2, 3});
  Tensor onehot = one_hot(labels, 4);
  Tensor want = softmax_cross_entropy(logits.reshape({6, 4}), onehot.reshape({6, 4}));
  auto cce = losses::loss_by_name("categorical_crossentropy");
  auto scce = losses::loss_by_name("sparse_categorical_crossentropy");
  EXPECT_NEAR(losses::compute(cce, onehot, logits, true).item(), want.item(), 1e-6);
  EXPECT_NEAR(losses::compute(scce, labels, logits, true).item(), want.item(), 1e-6);
  EXPECT_NEAR(losses::compute(cce, onehot, softmax(logits), false).item(), want.item(), 1e-5);
  EXPECT_THROW(losses::compute(cce, onehot.slice(1, 0, 2), logits, true), ShapeError);
  EXPECT_THROW(losses::compute(scce, labels.slice(1, 0, 2), logits, true), ShapeError);

  // Predictions right at steps (0,0), (0,2) and (1,1): sample 0 scores 2/3, sample 1 scores 1/3.
  Tensor pred = one_hot(from_vector<std::int64_t>({0, 0, 2, 0, 3, 0}, {2, 3}), 4);
  EXPECT_NEAR(metric_hits("categorical_accuracy", onehot, pred), 1.0, 1e-12);
  EXPECT_NEAR(metric_hits("sparse_categorical_accuracy", labels, pred), 1.0, 1e-12);
  EXPECT_THROW(metric_hits("categorical_accuracy", onehot.slice(1, 0, 2), pred), ShapeError);
}

// The copy task: read 4 digits, write them back in reverse. An LSTM encoder,
// RepeatVector, an LSTM decoder and a TimeDistributed softmax learn it.
TEST(SequenceModel, EncoderDecoderLearnsToReverseAndRoundTrips) {
  const std::int64_t n = 512, t = 4, v = 5;
  Generator g(7);
  Tensor digits = (rand({n, t}, g) * static_cast<double>(v)).to(DType::i64);
  std::vector<std::int64_t> d = digits.to_vector<std::int64_t>(), r(d.size());
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < t; ++j) r[i * t + j] = d[i * t + (t - 1 - j)];
  Tensor x = one_hot(digits, v), y = one_hot(from_vector(r, {n, t}), v);

  Sequential model({nn::Input({t, v}), nn::LSTM({.units = 32}), nn::RepeatVector(t),
                    nn::LSTM({.units = 32, .return_sequences = true}),
                    nn::TimeDistributed(nn::Dense({.units = v, .activation = "softmax"}))},
                   3);
  model.compile({.loss = "categorical_crossentropy", .optimizer = std::make_shared<optim::Adam>(0.01),
                 .metrics = {"accuracy"}});
  History h = model.fit(x, y, {.batch_size = 32, .epochs = 25, .verbose = 0});
  EXPECT_GT(h.history["accuracy"].back(), 0.95);
  EXPECT_LT(h.history["loss"].back(), h.history["loss"].front() * 0.3);

  const std::string path = temp_path("reverse.cortex");
  model.save(path);
  std::unique_ptr<Model> back = load_model(path);
  EXPECT_EQ(back->predict(x.slice(0, 0, 16)).to_vector<float>(), model.predict(x.slice(0, 0, 16)).to_vector<float>());
  EXPECT_EQ(back->evaluate(x, y)["accuracy"], model.evaluate(x, y)["accuracy"]);
}

// The same task as a functional model with a skip: fit, save, load, summary.
TEST(SequenceModel, FunctionalModelTrainsSavesAndLoads) {
  const std::int64_t n = 256, t = 4, v = 5;
  Generator g(9);
  Tensor digits = (rand({n, t}, g) * static_cast<double>(v)).to(DType::i64);
  Tensor x = one_hot(digits, v), y = x;  // copy the input: the skip makes it easy
  nn::Input in({t, v}, "digits");
  nn::Symbolic h = nn::LSTM({.units = 16, .return_sequences = true})(in);
  nn::Symbolic joined = nn::Concatenate()({h, in});
  nn::Symbolic out = nn::TimeDistributed(nn::Dense({.units = v, .activation = "softmax"}))(joined);
  Model model({in}, {out}, 4);
  EXPECT_EQ(model.input_shape(), (std::optional<Shape>{Shape{t, v}}));
  model.compile({.loss = "categorical_crossentropy", .optimizer = std::make_shared<optim::Adam>(0.02),
                 .metrics = {"accuracy"}});
  History h_fit = model.fit(x, y, {.batch_size = 32, .epochs = 8, .verbose = 0});
  EXPECT_GT(h_fit.history["accuracy"].back(), 0.95);
  EXPECT_NE(model.summary().find("concatenate (Concatenate)"), std::string::npos) << model.summary();
  EXPECT_NE(model.summary().find("lstm[0][0]"), std::string::npos);
  const std::string path = temp_path("functional.cortex");
  model.save(path);
  std::unique_ptr<Model> back = load_model(path);
  EXPECT_EQ(back->predict(x).to_vector<float>(), model.predict(x).to_vector<float>());
  EXPECT_EQ(back->summary(), model.summary());
}

}  // namespace
}  // namespace cortex::train
