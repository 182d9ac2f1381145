// The `cortex` command: train, evaluate, predict, summarise and look inside models.
//
//   cortex train                      # the lecture CNN on Fashion-MNIST, 12 epochs -> model.cortex
//   cortex train --device cuda        # the same on the first GPU
//   cortex evaluate model.cortex      # Test loss / Test accuracy
//   cortex predict model.cortex shirt.png
//   cortex summary --model lecture-cnn
//   cortex visualize filters model.cortex -o filters.png
//   cortex train --report-dir runs/lecture && cortex report runs/lecture
//   cortex experiment shift-invariance -o shift.svg
#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "common.h"
#include "cortex/io/image.h"

using namespace cortex;
using namespace cortex::cli;

namespace {

struct TrainArgs {
  std::string model = "lecture-cnn", dataset = "fashion-mnist", optimizer = "adadelta", output = "model.cortex",
              history, device = "cpu", precision = "fp32", report_dir;
  int epochs = 12, verbose = 1, threads = 0, early_stopping = 0;
  std::int64_t batch_size = 128, max_steps = 0;
  double lr = 0, validation_split = 0;
  std::uint64_t seed = 0;
};

int train_command(const TrainArgs& a) {
  if (a.threads > 0) set_num_threads(a.threads);
  train::Model model(network(a.model), a.seed);
  model.to(parse_device(a.device));  // before the data loads: a missing GPU fails at once
  data::FashionMnist d = load_data(a.dataset);
  auto opt = a.lr > 0 ? optim::make_optimizer(a.optimizer, a.lr) : optim::make_optimizer(a.optimizer);
  model.compile({.loss = "categorical_crossentropy", .optimizer = std::move(opt), .metrics = {"accuracy"}});
  Tensor y_train = data::to_categorical(d.train.y, 10), y_test = data::to_categorical(d.test.y, 10);
  std::vector<std::shared_ptr<train::Callback>> callbacks;
  if (a.early_stopping > 0)
    callbacks.push_back(std::make_shared<train::EarlyStopping>(
        train::EarlyStoppingOptions{.patience = a.early_stopping, .restore_best_weights = true}));
  if (!a.history.empty()) callbacks.push_back(std::make_shared<train::CSVLogger>(a.history));
  train::FitOptions fit{.batch_size = a.batch_size, .epochs = a.epochs, .verbose = a.verbose,
                        .validation_split = a.validation_split, .callbacks = callbacks, .seed = a.seed,
                        .max_steps = a.max_steps, .precision = a.precision, .report_dir = a.report_dir};
  fit.report = {.class_names = class_names(10),
                .settings = {{"model", a.model}, {"dataset", a.dataset}}};
  if (a.validation_split == 0) fit.validation_data = std::make_pair(d.test.x, y_test);
  model.fit(d.train.x, y_train, fit);
  model.save(a.output);
  std::printf("Saved %s\n", a.output.c_str());
  if (!a.report_dir.empty()) std::printf("Report: %s/report.html\n", a.report_dir.c_str());
  return 0;
}

int evaluate_command(const std::string& path, const std::string& dataset, std::int64_t batch_size,
                     const std::string& device) {
  Device on = parse_device(device);
  auto model = load_model(path);
  model->to(on);
  data::FashionMnist d = load_data(dataset);
  train::Logs score = model->evaluate(d.test.x, data::to_categorical(d.test.y, 10), {.batch_size = batch_size});
  std::printf("Test loss: %.4f\n", score["loss"]);
  if (score.count("accuracy")) std::printf("Test accuracy: %.4f\n", score["accuracy"]);
  return 0;
}

int predict_command(const std::string& path, const std::vector<std::string>& images, const std::string& device) {
  Device on = parse_device(device);
  auto model = load_model(path);
  model->to(on);
  const auto& in = model->network().input_shape();
  if (!in || in->size() != 3) fail<ValueError>(path, ": predict needs a model with an image input (H, W, C)");
  const auto& names = data::fashion_mnist_class_names();
  for (const auto& file : images) {
    Tensor x = io::to_model_input(io::read_png(file), (*in)[0], (*in)[1], (*in)[2]);
    Tensor p = model->predict(x);
    const auto [k, probability] = train::predicted_class(p);
    std::string label = p.shape()[1] == 10 ? names[k] : "class " + std::to_string(k);
    std::printf("%s: %s (%.1f%%)\n", file.c_str(), label.c_str(), 100.0 * probability);
  }
  return 0;
}

int summary_command(const std::string& path, const std::string& model) {
  if (!path.empty()) {
    std::printf("%s", load_model(path)->summary().c_str());
  } else {
    train::Model m(network(model));
    std::printf("%s", m.summary().c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Cortex: train, evaluate and inspect neural networks"};
  app.require_subcommand(0, 1);

  TrainArgs t;
  auto* train_cmd = app.add_subcommand("train", "train a model (default: the lecture CNN on Fashion-MNIST)");
  train_cmd->add_option("--model", t.model, "lecture-cnn, mlp or an architecture FILE.json")->capture_default_str();
  train_cmd->add_option("--dataset", t.dataset, "fashion-mnist or a directory of MNIST-format files")->capture_default_str();
  train_cmd->add_option("--epochs", t.epochs)->check(CLI::PositiveNumber)->capture_default_str();
  train_cmd->add_option("--batch-size", t.batch_size)->check(CLI::PositiveNumber)->capture_default_str();
  train_cmd->add_option("--optimizer", t.optimizer, "sgd, adadelta, adagrad, rmsprop, adam, adamw")->capture_default_str();
  train_cmd->add_option("--lr", t.lr, "learning rate (default: the optimizer's)")->check(CLI::PositiveNumber);
  train_cmd->add_option("--validation-split", t.validation_split, "hold out this fraction (default: validate on the test set)")
      ->check(CLI::Range(0.0, 0.99));
  train_cmd->add_option("--early-stopping", t.early_stopping, "patience on val_loss (0: off)")->check(CLI::NonNegativeNumber);
  train_cmd->add_option("--seed", t.seed)->capture_default_str();
  train_cmd->add_option("--threads", t.threads, "threads (default: all cores)")->check(CLI::PositiveNumber);
  train_cmd->add_option("--device", t.device, "cpu, cuda or cuda:N")->capture_default_str();
  train_cmd->add_option("--precision", t.precision, "fp32, or bf16 (mixed precision, CUDA only)")
      ->check(CLI::IsMember({"fp32", "bf16"}))
      ->capture_default_str();
  train_cmd->add_option("--max-steps", t.max_steps, "cap the batches of each epoch")->check(CLI::NonNegativeNumber);
  train_cmd->add_option("--output", t.output)->capture_default_str();
  train_cmd->add_option("--history", t.history, "write per-epoch figures to FILE.csv");
  train_cmd->add_option("--report-dir", t.report_dir, "record the run in DIR (settings, history, model, report.html)");
  train_cmd->add_option("--verbose", t.verbose, "0 silent, 1 progress bar, 2 one line per epoch")
      ->check(CLI::Range(0, 2))->capture_default_str();

  std::string path, dataset = "fashion-mnist", model_name, device = "cpu";
  std::int64_t batch_size = 128;
  std::vector<std::string> images;
  auto* eval_cmd = app.add_subcommand("evaluate", "print the test loss and accuracy of a saved model");
  eval_cmd->add_option("MODEL", path, "a .cortex file")->required();
  eval_cmd->add_option("--dataset", dataset)->capture_default_str();
  eval_cmd->add_option("--batch-size", batch_size)->check(CLI::PositiveNumber)->capture_default_str();
  eval_cmd->add_option("--device", device, "cpu, cuda or cuda:N")->capture_default_str();
  auto* predict_cmd = app.add_subcommand("predict", "classify PNG images with a saved model");
  predict_cmd->add_option("MODEL", path, "a .cortex file")->required();
  predict_cmd->add_option("IMAGES", images, "PNG files")->required();
  predict_cmd->add_option("--device", device, "cpu, cuda or cuda:N")->capture_default_str();
  auto* summary_cmd = app.add_subcommand("summary", "print a model's layers and parameter counts");
  summary_cmd->add_option("MODEL", path, "a .cortex file");
  summary_cmd->add_option("--model", model_name, "lecture-cnn, mlp or FILE.json");

  VisualizeArgs v;
  auto* viz_cmd = app.add_subcommand("visualize", "draw a model's filters, feature maps, saliency, occlusion, "
                                                  "confusion matrix or training curves");
  viz_cmd->add_option("KIND", v.kind, "filters, feature-maps, saliency, occlusion, confusion or curves")
      ->required()
      ->check(CLI::IsMember({"filters", "feature-maps", "saliency", "occlusion", "confusion", "curves"}));
  viz_cmd->add_option("MODEL", v.model, "a .cortex file or run directory (curves: a history CSV or run directory)")
      ->required();
  viz_cmd->add_option("IMAGE", v.image, "a PNG (feature-maps, saliency, occlusion; default: test image --index)");
  viz_cmd->add_option("--layer", v.layer, "the layer (default: the first conv layer)");
  viz_cmd->add_option("-o,--output", v.output, "OUT.png or OUT.svg (default: KIND.png, or KIND.svg for charts)");
  viz_cmd->add_option("--index", v.index, "test image used when no IMAGE is given")->capture_default_str();
  viz_cmd->add_option("--class", v.cls, "class for saliency and occlusion (default: the predicted one)");
  viz_cmd->add_option("--patch", v.patch, "occluder side in pixels")->check(CLI::PositiveNumber)->capture_default_str();
  viz_cmd->add_option("--stride", v.stride, "occluder step in pixels")->check(CLI::PositiveNumber)->capture_default_str();
  viz_cmd->add_option("--scale", v.scale, "pixels per value (default: automatic)")->check(CLI::Range(0, 256));
  viz_cmd->add_option("--dataset", v.dataset, "fashion-mnist or a directory of MNIST-format files")->capture_default_str();

  std::string run_dir, report_dataset;
  auto* report_cmd = app.add_subcommand("report", "write RUN_DIR/report.html: one self-contained page about a run");
  report_cmd->add_option("RUN_DIR", run_dir, "a directory written by train --report-dir")->required();
  report_cmd->add_option("--dataset", report_dataset, "test data (default: the run's dataset)");

  ExperimentArgs x;
  auto* exp_cmd = app.add_subcommand("experiment", "run one of the course's experiments");
  exp_cmd->add_option("NAME", x.name, "shift-invariance")->required()->check(CLI::IsMember({"shift-invariance"}));
  exp_cmd->add_option("-o,--output", x.output, "the chart, OUT.svg")->capture_default_str();
  exp_cmd->add_option("--dataset", x.dataset)->capture_default_str();
  exp_cmd->add_option("--epochs", x.options.epochs)->check(CLI::PositiveNumber)->capture_default_str();
  exp_cmd->add_option("--batch-size", x.options.batch_size)->check(CLI::PositiveNumber)->capture_default_str();
  exp_cmd->add_option("--max-shift", x.options.max_shift, "test shifts 0..N pixels")->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  exp_cmd->add_option("--augment-shift", x.options.augment_shift, "training shifts up to N pixels (0: --max-shift)")
      ->check(CLI::NonNegativeNumber);
  exp_cmd->add_option("--test-samples", x.options.test_samples, "first N test images (0: all)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  exp_cmd->add_option("--max-steps", x.options.max_steps, "cap the batches of each epoch")->check(CLI::NonNegativeNumber);
  exp_cmd->add_option("--seed", x.options.seed)->capture_default_str();
  exp_cmd->add_option("--verbose", x.options.verbose, "0 silent, 1 progress bar, 2 one line per epoch")
      ->check(CLI::Range(0, 2))->capture_default_str();

  CLI11_PARSE(app, argc, argv);
  try {
    if (*eval_cmd) return evaluate_command(path, dataset, batch_size, device);
    if (*viz_cmd) return visualize_command(v);
    if (*report_cmd) return report_command(run_dir, report_dataset);
    if (*exp_cmd) return experiment_command(x);
    if (*predict_cmd) return predict_command(path, images, device);
    if (*summary_cmd) {
      if (path.empty() && model_name.empty()) model_name = "lecture-cnn";
      return summary_command(path, model_name);
    }
    return train_command(t);  // `cortex` and `cortex train` both train
  } catch (const cortex::Error& e) {
    std::fprintf(stderr, "cortex: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {  // from a library below us (a filesystem error, say)
    std::fprintf(stderr, "cortex: %s\n", e.what());
    return 1;
  }
}
