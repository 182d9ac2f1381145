// The training report: one self-contained HTML page about a run (settings,
// model summary, curves, confusion matrix, first-layer filters, the most
// confused examples), every image inlined, no script, opens from disk.
// fit(..., {.report_dir = DIR}) writes DIR/settings.json, DIR/history.csv,
// DIR/model.cortex and DIR/report.html; `cortex report DIR` rebuilds the page.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "cortex/train/model.h"

namespace cortex::train {

using Settings = std::vector<std::pair<std::string, std::string>>;

// x: (N, ...) inputs, labels: (N) integer classes (or one-hot (N, K)) of the
// data the confusion matrix and the confused examples come from (the
// validation data); an undefined x leaves those sections out. `settings` are
// the rows of the settings table.
std::string report_html(Model& model, const History& history, const Tensor& x, const Tensor& labels,
                        const Settings& settings, const ReportOptions& options = {});

// report_html written atomically to run_dir/report.html; returns that path.
std::string write_report(const std::string& run_dir, Model& model, const History& history, const Tensor& x,
                         const Tensor& labels, const Settings& settings, const ReportOptions& options = {});

// run_dir/settings.json: a JSON object of strings plus "class_names" (an array,
// left out when empty), written atomically; and back (a missing or malformed
// file is a cortex::Error naming it).
void write_settings(const std::string& run_dir, const Settings& settings, const std::vector<std::string>& class_names);
Settings read_settings(const std::string& run_dir, std::vector<std::string>* class_names = nullptr);

// A classifier's verdicts on x: model.predict's (N, K) probabilities, or a
// single sigmoid unit (N, 1) read as two classes at 0.5. labels: (N) integer
// classes, (N, K) one-hot, or (N, 1) binary targets.
struct Classified {
  std::int64_t classes = 0;  // K (2 for a single sigmoid unit)
  std::vector<std::int64_t> truth, predicted;
  std::vector<double> confidence;  // the probability of the predicted class
  Tensor counts;                   // (K, K) confusion matrix, counts[true, predicted]
};
Classified classify(Model& model, const Tensor& x, const Tensor& labels);

// Checks that `options` fit a classifier of K classes (K names when names are
// given, confused_examples >= 0): a ValueError otherwise.
void check_report_options(const ReportOptions& options, std::int64_t k);

// Labels of the classes: options.class_names when given, else "0" ... "K-1".
std::vector<std::string> class_names(const ReportOptions& options, std::int64_t k);

}  // namespace cortex::train
