// The `cortex` subcommands that make and use models: train, evaluate, predict, summary.
#include <cstdio>
#include <cstdlib>

#include "args.h"
#include "common.h"
#include "cortex/core/threads.h"

namespace cortex::cli {
namespace {

const char* kEvaluateUsage = "cortex evaluate MODEL.cortex [--dataset D]";
const char* kPredictUsage = "cortex predict MODEL.cortex IMAGE.png...";
const char* kSummaryUsage = "cortex summary [MODEL.cortex | --model NAME]";

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
  // Ctrl-C ends the epoch after the batch under way; what was learned is saved below.
  auto on_signal = std::make_shared<train::InterruptOnSignal>();
  std::vector<std::shared_ptr<train::Callback>> callbacks{on_signal};
  if (a.early_stopping > 0)
    callbacks.push_back(std::make_shared<train::EarlyStopping>(
        train::EarlyStoppingOptions{.patience = a.early_stopping, .restore_best_weights = true}));
  if (!a.history.empty()) callbacks.push_back(std::make_shared<train::CSVLogger>(a.history));
  train::FitOptions fit{.batch_size = a.batch_size, .epochs = a.epochs, .verbose = a.verbose,
                        .validation_split = a.validation_split, .callbacks = callbacks, .seed = a.seed,
                        .max_steps = a.max_steps, .precision = a.precision, .report_dir = a.report_dir};
  fit.report = {.class_names = class_names(10),
                .settings = {{"model", a.model}, {"dataset", a.dataset}}};
  if (const char* wait = std::getenv("CORTEX_OMP_WAIT")) fit.report.settings.emplace_back("openmp wait", wait);
  if (a.validation_split == 0) fit.validation_data = std::make_pair(d.test.x, y_test);
  train::History history = model.fit(d.train.x, y_train, fit);
  model.save(a.output);
  if (history.interrupted)
    std::printf("Saved %s (interrupted: %s)\n", a.output.c_str(), history.interrupted->describe().c_str());
  else
    std::printf("Saved %s\n", a.output.c_str());
  if (!a.report_dir.empty()) std::printf("Report: %s/report.html\n", a.report_dir.c_str());
  return history.interrupted ? 128 + on_signal->signal() : 0;  // 130 after Ctrl-C, as shells expect
}

int evaluate_command(const std::string& path, const std::string& dataset, std::int64_t batch_size,
                     const std::string& device) {
  Device on = parse_device(device);
  auto model = load_model(path, kEvaluateUsage);
  model->to(on);
  data::FashionMnist d = load_data(dataset);
  train::Logs score = model->evaluate(d.test.x, data::to_categorical(d.test.y, 10), {.batch_size = batch_size});
  std::printf("Test loss: %.4f\n", score["loss"]);
  if (score.count("accuracy")) std::printf("Test accuracy: %.4f\n", score["accuracy"]);
  return 0;
}

int predict_command(const std::string& path, const std::vector<std::string>& images, const std::string& device,
                    bool raw) {
  Device on = parse_device(device);
  auto model = load_model(path, kPredictUsage);
  model->to(on);
  const auto& names = data::fashion_mnist_class_names();
  for (const auto& file : images) {
    Tensor p = model->predict(image_input(*model, path, file, raw, kPredictUsage));
    const auto [k, probability] = train::predicted_class(p);
    std::string label = p.shape()[1] == 10 ? names[k] : "class " + std::to_string(k);
    std::printf("%s: %s (%.1f%%)\n", file.c_str(), label.c_str(), 100.0 * probability);
  }
  return 0;
}

int summary_command(const std::string& path, const std::string& model) {
  if (!path.empty()) {
    std::printf("%s", load_model(path, kSummaryUsage)->summary().c_str());
  } else {
    train::Model m(network(model.empty() ? "lecture-cnn" : model));
    std::printf("%s", m.summary().c_str());
  }
  return 0;
}

}  // namespace

void add_model_commands(CLI::App& app, Runs& runs) {
  auto t = std::make_shared<TrainArgs>();
  auto* train = app.add_subcommand("train", "train a model (default: the lecture CNN on Fashion-MNIST)");
  train->add_option("--model", t->model, "lecture-cnn, mlp or an architecture FILE.json")->capture_default_str();
  train->add_option("--dataset", t->dataset, "fashion-mnist or a directory of MNIST-format files")
      ->capture_default_str();
  train->add_option("--epochs", t->epochs)->check(at_least(1))->capture_default_str();
  train->add_option("--batch-size", t->batch_size)->check(at_least(1))->capture_default_str();
  train->add_option("--optimizer", t->optimizer)
      ->check(one_of({"sgd", "adadelta", "adagrad", "rmsprop", "adam", "adamw"}))
      ->capture_default_str();
  train->add_option("--lr", t->lr, "learning rate (default: the optimizer's)")->check(above(0));
  train->add_option("--validation-split", t->validation_split,
                    "hold out this fraction of the training data (default: validate on the test set)")
      ->check(in_range(0, 1, true));
  train->add_option("--early-stopping", t->early_stopping, "patience on val_loss (0: off)")->check(at_least(0));
  train->add_option("--seed", t->seed)->check(at_least(0))->capture_default_str();
  train->add_option("--threads", t->threads, "threads (default: all cores)")->check(at_least(1));
  train->add_option("--device", t->device, "cpu, cuda or cuda:N")->capture_default_str();
  train->add_option("--precision", t->precision, "fp32, or bf16 (mixed precision, CUDA only)")
      ->check(one_of({"fp32", "bf16"}))
      ->capture_default_str();
  train->add_option("--max-steps", t->max_steps, "cap the training batches of each epoch (validation sees all)")
      ->check(at_least(0));
  train->add_option("--output", t->output)->capture_default_str();
  train->add_option("--history", t->history, "write per-epoch figures to FILE.csv");
  train->add_option("--report-dir", t->report_dir, "record the run in DIR (settings, history, model, report.html)");
  train->add_option("--verbose", t->verbose, "0 silent, 1 progress bar, 2 one line per epoch")
      ->check(one_of({"0", "1", "2"}))
      ->capture_default_str();
  train->footer("Ctrl-C ends training after the batch under way and saves the model (exit status 130).");
  runs[train] = [t] { return train_command(*t); };

  struct Evaluate {
    std::string path, dataset = "fashion-mnist", device = "cpu";
    std::int64_t batch_size = 128;
  };
  auto e = std::make_shared<Evaluate>();
  auto* evaluate = app.add_subcommand("evaluate", "print the test loss and accuracy of a saved model");
  evaluate->add_option("MODEL", e->path, "a .cortex file or a run directory")->required();
  evaluate->add_option("--dataset", e->dataset)->capture_default_str();
  evaluate->add_option("--batch-size", e->batch_size)->check(at_least(1))->capture_default_str();
  evaluate->add_option("--device", e->device, "cpu, cuda or cuda:N")->capture_default_str();
  runs[evaluate] = [e] { return evaluate_command(e->path, e->dataset, e->batch_size, e->device); };

  struct Predict {
    std::string path, device = "cpu";
    std::vector<std::string> images;
    bool raw = false;
  };
  auto p = std::make_shared<Predict>();
  auto* predict = app.add_subcommand("predict", "classify PNG images with a saved model");
  predict->add_option("MODEL", p->path, "a .cortex file or a run directory")->required();
  predict->add_option("IMAGES", p->images, "PNG files")->required();
  predict->add_option("--device", p->device, "cpu, cuda or cuda:N")->capture_default_str();
  predict->add_flag("--raw", p->raw,
                    "take each image as it is: no padding to the model's aspect ratio, no inverting of a light "
                    "background (Fashion-MNIST's clothes are light on black)");
  runs[predict] = [p] { return predict_command(p->path, p->images, p->device, p->raw); };

  struct Summary {
    std::string path, model;
  };
  auto s = std::make_shared<Summary>();
  auto* summary = app.add_subcommand("summary", "print a model's layers and parameter counts");
  summary->add_option("MODEL", s->path, "a .cortex file or a run directory");
  summary->add_option("--model", s->model, "lecture-cnn, mlp or FILE.json (default: lecture-cnn)");
  runs[summary] = [s] { return summary_command(s->path, s->model); };
}

}  // namespace cortex::cli
