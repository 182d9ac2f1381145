// The training report: a self-contained HTML page about one run.
#include "cortex/train/report.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "cortex/io/atomic_file.h"
#include "cortex/io/image.h"
#include "cortex/io/json_depth.h"
#include "cortex/io/open_file.h"
#include "cortex/ops/creation.h"
#include "cortex/ops/elementwise.h"
#include "cortex/ops/reduce.h"
#include "cortex/train/metrics.h"
#include "cortex/viz/viz.h"

namespace cortex::train {
namespace {

std::string figure(const std::string& id, const std::string& mime, const std::string& bytes, const std::string& alt,
                   const std::string& caption) {
  return "<figure id=\"" + id + "\"><img src=\"data:" + mime + ";base64," + viz::base64(bytes) + "\" alt=\"" +
         viz::escape_xml(alt) + "\"><figcaption>" + viz::escape_xml(caption) + "</figcaption></figure>\n";
}

std::string percent(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f %%", 100.0 * v);
  return buf;
}

std::string fixed(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", v);
  return buf;
}

const char* kStyle = R"(body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{margin-bottom:.2em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left}
pre{background:#f6f6f6;padding:.8em;overflow-x:auto;font-size:13px}
figure{display:inline-block;margin:.4em;vertical-align:top;text-align:center}figcaption{font-size:12px;max-width:260px}
img{image-rendering:pixelated}.figures{display:flex;flex-wrap:wrap}.note{color:#666}
.interrupted{background:#fff4e0;border-left:4px solid #e69500;padding:.5em .8em})";

}  // namespace

void check_report_options(const ReportOptions& options, std::int64_t k) {
  if (options.confused_examples < 0)
    fail<ValueError>("the report expects confused_examples >= 0, got ", options.confused_examples);
  if (!options.class_names.empty() && static_cast<std::int64_t>(options.class_names.size()) != k)
    fail<ValueError>("the report expects ", k, " class names for a model with ", k, " classes, got ",
                     options.class_names.size());
}

std::vector<std::string> class_names(const ReportOptions& options, std::int64_t k) {
  if (!options.class_names.empty()) return options.class_names;
  std::vector<std::string> names;
  for (std::int64_t i = 0; i < k; ++i) names.push_back(std::to_string(i));
  return names;
}

Classified classify(Model& model, const Tensor& x, const Tensor& labels) {
  Tensor probs = model.predict(x, 500).contiguous();  // (N, K)
  if (probs.dim() != 2)
    fail<ShapeError>("a classifier's outputs are (N, K) probabilities, got ", shape_str(probs.shape()));
  const std::int64_t n = probs.size(0);
  const bool binary = probs.size(1) == 1;
  Classified c;
  c.classes = binary ? 2 : probs.size(1);
  Tensor truth = labels.dim() == 2 && labels.size(1) > 1 ? argmax(labels, 1)
                 : labels.dim() == 2                   ? gt(labels.select(1, 0), scalar(0.5))
                                                       : labels;
  if (truth.dim() != 1 || truth.size(0) != n)
    fail<ShapeError>("expected ", n, " labels (N), (N, K) or (N, 1) for ", n, " examples, got shape ",
                     shape_str(labels.shape()));
  c.truth = truth.to(DType::i64).to_vector<std::int64_t>();
  std::vector<float> p = probs.to_vector<float>();
  for (std::int64_t i = 0; i < n; ++i) {
    std::int64_t best = 0;
    if (binary) {
      best = p[i] > 0.5f;
      c.confidence.push_back(best ? p[i] : 1.0 - p[i]);
    } else {
      for (std::int64_t j = 1; j < c.classes; ++j)
        if (p[i * c.classes + j] > p[i * c.classes + best]) best = j;
      c.confidence.push_back(p[i * c.classes + best]);
    }
    c.predicted.push_back(best);
  }
  c.counts = confusion_matrix(from_vector(c.truth, {n}), from_vector(c.predicted, {n}), c.classes);
  return c;
}

std::string report_html(Model& model, const History& history, const Tensor& x, const Tensor& labels,
                        const Settings& settings, const ReportOptions& options) {
  std::string body;
  std::string headline;
  if (!history.epochs.empty()) {
    headline = std::to_string(history.epochs.back() + 1) + " epochs";
    for (const char* key : {"loss", "accuracy", "val_loss", "val_accuracy"}) {
      auto it = history.history.find(key);
      if (it == history.history.end() || it->second.empty()) continue;
      const double v = it->second.back();
      headline += std::string(" · ") + key + " " + (std::string(key).find("accuracy") != std::string::npos ? percent(v) : fixed(v));
    }
  }

  for (const auto& [k, v] : settings)  // fit stopped by Model::interrupt (Ctrl-C) says so first
    if (k == "interrupted")
      body += "<p id=\"interrupted\" class=\"interrupted\"><strong>Interrupted:</strong> " + viz::escape_xml(v) +
              ". The figures below are the model's at that point.</p>\n";

  body += "<h2>Settings</h2>\n<table>\n";
  for (const auto& [k, v] : settings)
    body += "<tr><th>" + viz::escape_xml(k) + "</th><td>" + viz::escape_xml(v) + "</td></tr>\n";
  body += "</table>\n";

  body += "<h2>Model</h2>\n<pre>" + viz::escape_xml(model.summary()) + "</pre>\n";

  std::string filters = "<h2>First-layer filters</h2>\n";
  auto convs = viz::conv_layers(model.network());
  if (convs.empty()) {
    filters += "<p class=\"note\">This model has no convolution layer.</p>\n";
  } else {
    Tensor grid = viz::filter_grid(model.network(), convs.front(), {.scale = 16, .border = 2});
    filters += figure("filters", "image/png", io::encode_png(grid), "filters of " + convs.front(),
                   "The filters of " + convs.front() + ", each normalised to its own range.");
  }

  body += "<h2>Training curves</h2>\n";
  if (history.epochs.empty())
    body += "<p class=\"note\">No epochs were recorded.</p>\n";
  else
    body += figure("curves", "image/svg+xml", viz::curves_svg(history.epochs, history.history),
                   "training curves: loss and metrics per epoch", "Solid: training; dashed: validation.");

  if (x.defined()) {
    const Classified c = classify(model, x, labels);
    const std::int64_t n = static_cast<std::int64_t>(c.truth.size());
    check_report_options(options, c.classes);
    const auto names = class_names(options, c.classes);
    std::int64_t right = 0;
    for (std::int64_t i = 0; i < n; ++i) right += c.truth[i] == c.predicted[i];

    body += "<h2>Confusion matrix</h2>\n<p>" + std::to_string(right) + " of " + std::to_string(n) +
            " examples right (" + percent(n > 0 ? static_cast<double>(right) / static_cast<double>(n) : 0.0) +
            ").</p>\n";
    body += figure("confusion", "image/svg+xml", viz::confusion_svg(c.counts, names),
                   "confusion matrix of " + std::to_string(n) + " examples", "Rows: true class; columns: predicted class.");
    body += filters;
    filters.clear();

    body += "<h2>Most confused examples</h2>\n<div class=\"figures\">\n";
    std::vector<std::int64_t> wrong;
    for (std::int64_t i = 0; i < n; ++i)
      if (c.truth[i] != c.predicted[i]) wrong.push_back(i);
    if (wrong.empty()) body += "<p class=\"note\">Every example is right.</p>\n";
    std::stable_sort(wrong.begin(), wrong.end(),
                     [&](std::int64_t a, std::int64_t b) { return c.confidence[a] > c.confidence[b]; });
    if (static_cast<std::int64_t>(wrong.size()) > options.confused_examples) wrong.resize(options.confused_examples);
    Tensor xs = x.to(Device::cpu());
    const bool pictures = xs.dim() == 4 && (xs.size(3) == 1 || xs.size(3) == 3);
    for (std::int64_t i : wrong) {
      std::string caption = "#";  // appended, not "#" + ...: GCC 12 warns falsely (-Wrestrict) on that
      caption += std::to_string(i) + ": " + names[c.truth[i]] + " taken for " + names[c.predicted[i]] + " (" +
                 percent(c.confidence[i]) + ")";
      if (pictures)
        body += figure("confused-" + std::to_string(i), "image/png",
                       io::encode_png(viz::image_picture(xs.slice(0, i, i + 1), 4)), caption, caption);
      else
        body += "<p>" + viz::escape_xml(caption) + "</p>\n";
    }
    body += "</div>\n";
  }
  body += filters;

  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Cortex training report</title>\n"
         "<style>" + std::string(kStyle) + "</style>\n</head>\n<body>\n<h1>Cortex training report</h1>\n<p>" +
         viz::escape_xml(headline) + "</p>\n" + body + "</body>\n</html>\n";
}

std::string write_report(const std::string& run_dir, Model& model, const History& history, const Tensor& x,
                         const Tensor& labels, const Settings& settings, const ReportOptions& options) {
  const std::string page = report_html(model, history, x, labels, settings, options);
  const std::string path = run_dir + "/report.html";
  io::write_text(path, page);
  return path;
}

void write_settings(const std::string& run_dir, const Settings& settings, const std::vector<std::string>& class_names) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& [k, v] : settings) j[k] = v;
  if (!class_names.empty()) j["class_names"] = class_names;
  // Text that is not UTF-8 (a path, a name) is kept with replacement characters.
  const std::string text = j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
  const std::string path = run_dir + "/settings.json";
  io::write_text(path, text);
}

Settings read_settings(const std::string& run_dir, std::vector<std::string>* class_names) {
  const std::string path = run_dir + "/settings.json";
  std::string text, why;
  if (!std::filesystem::exists(path))
    fail<Error>("cannot read ", path, ": no such file (is ", run_dir, " a run directory written by fit?)");
  if (!io::read_regular_file(path, &text, &why)) fail<Error>("cannot read ", path, ": ", why);
  const nlohmann::ordered_json j = io::parse_json<nlohmann::ordered_json>(text, 4, path);
  if (!j.is_object()) fail<Error>(path, " is not a JSON object of settings");
  Settings out;
  for (const auto& [k, v] : j.items()) {
    if (k == "class_names") {
      if (!v.is_array() || !std::all_of(v.begin(), v.end(), [](const auto& e) { return e.is_string(); }))
        fail<Error>(path, ": class_names must be an array of strings");
      if (class_names) *class_names = v.get<std::vector<std::string>>();
      continue;
    }
    out.emplace_back(k, v.is_string() ? v.get<std::string>() : v.dump());
  }
  return out;
}

}  // namespace cortex::train
