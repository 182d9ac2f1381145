// What the `cortex` subcommands share: models by name, devices, datasets, and
// reading a model or an image with a message that guides when the path holds
// something else.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "cortex/io/image.h"
#include "cortex/train/train.h"

namespace CLI {
class App;
}

namespace cortex::cli {

// A subcommand's work, run after parsing; returns the process's exit code.
using Run = std::function<int()>;
using Runs = std::map<const CLI::App*, Run>;

// Each family of subcommands adds its own to `app`, and their work to `runs`.
void add_model_commands(CLI::App& app, Runs& runs);    // train, evaluate, predict, summary
void add_inspect_commands(CLI::App& app, Runs& runs);  // visualize, report, experiment
void add_seq_commands(CLI::App& app, Runs& runs);      // seq addition
void add_lm_commands(CLI::App& app, Runs& runs);       // lm train, lm sample

// A network by name (lecture-cnn, mlp) or from an architecture FILE.json.
std::shared_ptr<nn::Sequential> network(const std::string& model);

// "cpu", "cuda" (the first GPU) or "cuda:N"; anything else is a ValueError.
Device parse_device(const std::string& name);

// "fashion-mnist" (the Debian package) or a directory of MNIST-format files.
data::FashionMnist load_data(const std::string& dataset);

// What `path` holds, judged from its first bytes, in words: "a PNG image",
// "a model file", "a directory", "a JSON file", "a CSV file", "a gzip file",
// "no such file", or "" for anything else.
std::string file_kind(const std::string& path);

// A saved model: a .cortex file, or a run directory holding model.cortex. A
// path that holds something else (an image given where the model goes, a run
// directory without a model) is a ValueError that says so and shows `usage`.
std::unique_ptr<train::Model> load_model(const std::string& path, const std::string& usage);

// A PNG image (H, W, C) u8, with the same guidance for a model or a missing file.
Tensor read_image(const std::string& path, const std::string& usage);

// A picture as the model's input (its (H, W, C) from `model`), fitted as
// io::fit_image does unless `raw`; says on stderr what was done to it.
Tensor image_input(train::Model& model, const std::string& model_path, const std::string& image, bool raw,
                   const std::string& usage);

// Fashion-MNIST's class names for a 10-class model, else "0" ... "K-1".
std::vector<std::string> class_names(std::int64_t k);

}  // namespace cortex::cli
