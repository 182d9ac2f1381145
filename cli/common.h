// What the `cortex` subcommands share: models by name, devices, datasets.
#pragma once

#include <memory>
#include <string>

#include "cortex/train/train.h"

namespace cortex::cli {

// A network by name (lecture-cnn, mlp) or from an architecture FILE.json.
std::shared_ptr<nn::Sequential> network(const std::string& model);

// "cpu", "cuda" (the first GPU) or "cuda:N"; anything else is a ValueError.
Device parse_device(const std::string& name);

// "fashion-mnist" (the Debian package) or a directory of MNIST-format files.
data::FashionMnist load_data(const std::string& dataset);

// A saved model: a .cortex file, or a run directory holding model.cortex.
std::unique_ptr<train::Model> load_model(const std::string& path);

// Fashion-MNIST's class names for a 10-class model, else "0" ... "K-1".
std::vector<std::string> class_names(std::int64_t k);

// `cortex visualize KIND MODEL [IMAGE]`: one picture of a saved model.
struct VisualizeArgs {
  std::string kind, model, image, layer, output, dataset = "fashion-mnist";
  std::int64_t index = 0;   // the test image used when no IMAGE is given
  std::int64_t cls = -1;    // saliency/occlusion class (-1: the predicted one)
  std::int64_t patch = 4, stride = 1, scale = 0;
};
int visualize_command(VisualizeArgs a);

// `cortex report RUN_DIR`: rebuilds RUN_DIR/report.html.
int report_command(const std::string& run_dir, const std::string& dataset);

// `cortex experiment shift-invariance`.
struct ExperimentArgs {
  std::string name, output = "shift_invariance.svg", dataset = "fashion-mnist";
  train::ShiftInvarianceOptions options;
};
int experiment_command(const ExperimentArgs& a);

}  // namespace cortex::cli
