// The shift-invariance experiment: how test accuracy falls as images move.
#include <memory>

#include "cortex/data/augment.h"
#include "cortex/data/labels.h"
#include "cortex/nn/zoo.h"
#include "cortex/ops/reduce.h"
#include "cortex/optim/adadelta.h"
#include "cortex/train/experiments.h"
#include "cortex/train/model.h"
#include "cortex/viz/chart.h"

namespace cortex::train {
namespace {

// Share of images (N, H, W, C) that `model` labels right.
double accuracy(Model& model, const Tensor& images, const std::vector<std::int64_t>& labels) {
  std::vector<std::int64_t> predicted = argmax(model.predict(images, 500), 1).to_vector<std::int64_t>();
  std::int64_t right = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) right += predicted[i] == labels[i];
  return static_cast<double>(right) / static_cast<double>(labels.size());
}

}  // namespace

std::vector<ShiftCurve> shift_invariance(const data::FashionMnist& data, const ShiftInvarianceOptions& o) {
  if (o.max_shift < 0 || o.max_shift >= data.test.x.size(1) || o.augment_shift < 0 || o.epochs < 1 || o.test_samples < 0)
    fail<ValueError>("shift_invariance expects 0 <= max_shift < the image size, augment_shift >= 0, epochs >= 1 and "
                     "test_samples >= 0, got max_shift ", o.max_shift, ", augment_shift ", o.augment_shift,
                     ", epochs ", o.epochs, ", test_samples ", o.test_samples);
  const std::int64_t n_test = o.test_samples > 0 ? std::min(o.test_samples, data.test.x.size(0)) : data.test.x.size(0);
  Tensor x_test = data.test.x.slice(0, 0, n_test);
  std::vector<std::int64_t> y_test = data.test.y.slice(0, 0, n_test).to(DType::i64).to_vector<std::int64_t>();
  Tensor y_train = data::to_categorical(data.train.y, 10);
  const double fraction = static_cast<double>(o.augment_shift > 0 ? o.augment_shift : o.max_shift) /
                          static_cast<double>(data.train.x.size(1));

  std::vector<ShiftCurve> curves;
  for (const char* kind : {"MLP", "CNN"}) {
    for (bool augmented : {false, true}) {
      Model model(std::make_shared<nn::Sequential>(std::string(kind) == "MLP" ? nn::zoo::mlp() : nn::zoo::lecture_cnn()),
                  o.seed);
      model.compile({.loss = "categorical_crossentropy",
                     .optimizer = std::make_shared<optim::Adadelta>(optim::AdadeltaOptions{.learning_rate = 1.0}),
                     .metrics = {"accuracy"}});
      FitOptions fit{.batch_size = o.batch_size, .epochs = o.epochs, .verbose = o.verbose, .seed = o.seed,
                     .max_steps = o.max_steps};
      if (augmented)
        fit.augment = [fraction](const Tensor& x, Generator& g) {
          return data::random_shift(x, fraction, fraction, g, data::FillMode::constant);
        };
      model.fit(data.train.x, y_train, fit);

      ShiftCurve curve{std::string(kind) + (augmented ? " + random shifts" : ""), {}};
      for (std::int64_t s = 0; s <= o.max_shift; ++s) {
        if (s == 0) {
          curve.accuracy.push_back(accuracy(model, x_test, y_test));
          continue;
        }
        double sum = 0;
        for (auto [dy, dx] : {std::pair{0L, s}, std::pair{0L, -s}, std::pair{s, 0L}, std::pair{-s, 0L}})
          sum += accuracy(model, data::shift(x_test, dy, dx), y_test);
        curve.accuracy.push_back(sum / 4);
      }
      curves.push_back(std::move(curve));
    }
  }
  return curves;
}

std::string shift_invariance_svg(const std::vector<ShiftCurve>& curves) {
  std::vector<viz::ChartSeries> series;
  for (const auto& c : curves) {
    // One colour per network; dashed when trained on shifted images.
    viz::ChartSeries s{.label = c.label, .y = c.accuracy, .dashed = c.label.find("shifts") != std::string::npos,
                       .colour = c.label.rfind("MLP", 0) == 0 ? "#1f77b4" : "#d62728"};
    for (std::size_t i = 0; i < c.accuracy.size(); ++i) s.x.push_back(static_cast<double>(i));
    series.push_back(std::move(s));
  }
  return viz::line_chart_svg(series, "shift of the test images (pixels)", "test accuracy",
                             "Shift invariance on Fashion-MNIST");
}

}  // namespace cortex::train
