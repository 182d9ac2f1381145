// The `cortex` subcommands that look inside models and runs: visualize,
// report and experiment.
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "args.h"
#include "common.h"
#include "cortex/io/atomic_file.h"

namespace cortex::cli {
namespace {

using io::write_text;

const char* kVisualizeUsage = "cortex visualize KIND MODEL.cortex [IMAGE.png] [-o OUT]";
const char* kReportUsage = "cortex report RUN_DIR";

// `cortex visualize KIND MODEL [IMAGE]`: one picture of a saved model.
struct VisualizeArgs {
  std::string kind, model, image, layer, output, dataset = "fashion-mnist";
  std::int64_t index = 0;   // the test image used when no IMAGE is given
  std::int64_t cls = -1;    // saliency/occlusion class (-1: the predicted one)
  std::int64_t patch = 4, stride = 1, scale = 0;
  bool raw = false;         // IMAGE as it is (see cortex predict --raw)
};

// `cortex experiment shift-invariance`.
struct ExperimentArgs {
  std::string name, output = "shift_invariance.svg", dataset = "fashion-mnist";
  train::ShiftInvarianceOptions options;
};

// The input for feature maps, saliency and occlusion: a PNG fitted to the
// model's input, or test image number `index` of the dataset.
Tensor input_image(train::Model& model, const VisualizeArgs& a) {
  const std::optional<Shape> in = model.input_shape();
  if (!in || in->size() != 3) fail<ValueError>(a.model, ": ", a.kind, " needs a model with an image input (H, W, C)");
  if (!a.image.empty()) return image_input(model, a.model, a.image, a.raw, kVisualizeUsage);
  data::FashionMnist d = load_data(a.dataset);
  if (a.index < 0 || a.index >= d.test.x.size(0))
    fail<ValueError>("--index expects a test image in [0, ", d.test.x.size(0) - 1, "], got ", a.index);
  return d.test.x.slice(0, a.index, a.index + 1);
}

// The class to explain (--class, or the predicted one) and its name.
std::pair<std::int64_t, std::string> chosen_class(train::Model& model, const Tensor& x, std::int64_t cls) {
  const train::Classified c = train::classify(model, x, zeros({1}, DType::i64));
  if (cls < -1 || cls >= c.classes)
    fail<ValueError>("--class expects a class in [0, ", c.classes - 1, "] (or -1: the predicted one), got ", cls);
  const std::int64_t k = cls >= 0 ? cls : c.predicted[0];
  return {k, class_names(c.classes)[k]};
}

// `cortex visualize model`: the layer graph as DOT, drawn by Graphviz.
int visualize_model(const VisualizeArgs& a) {
  auto model = load_model(a.model, kVisualizeUsage);
  const viz::ModelGraph graph = viz::model_graph(model->network());
  const std::string dot = std::filesystem::path(a.output).replace_extension(".dot").string();
  write_text(dot, viz::model_dot(graph, std::filesystem::path(a.model).filename().string()));
  viz::render_dot(dot, a.output);
  std::printf("Wrote %s and %s (%zu boxes, %zu connections)\n", a.output.c_str(), dot.c_str(), graph.boxes.size(),
              graph.edges.size());
  return 0;
}

int visualize_command(VisualizeArgs a) {
  const bool chart = a.kind == "confusion" || a.kind == "curves" || a.kind == "model";
  if (a.output.empty()) a.output = a.kind + (chart ? ".svg" : ".png");
  if (chart && a.kind != "model" && !viz::has_extension(a.output, ".svg"))
    fail<ValueError>(a.kind, " is drawn as SVG (it carries text): -o expects a file ending in .svg, got '", a.output, "'");
  if (!viz::has_extension(a.output, ".png") && !viz::has_extension(a.output, ".svg"))
    fail<ValueError>("-o expects a file ending in .png or .svg (an SVG carries the picture and its title), got '",
                     a.output, "'");

  if (a.kind == "model") return visualize_model(a);
  if (a.kind == "curves") {  // MODEL is a CSVLogger file or a run directory
    const std::string log = std::filesystem::is_directory(a.model) ? a.model + "/history.csv" : a.model;
    train::History h = train::read_csv_log(log);
    write_text(a.output, viz::curves_svg(h.epochs, h.history));
    std::printf("Wrote %s (%zu epochs)\n", a.output.c_str(), h.epochs.size());
    return 0;
  }
  auto model = load_model(a.model, kVisualizeUsage);
  auto* seq = dynamic_cast<nn::Sequential*>(&model->network());
  if (seq == nullptr)
    fail<ValueError>(a.model, ": visualize ", a.kind, " draws Sequential image models; this one is a ",
                     model->network().type());
  nn::Sequential& net = *seq;
  viz::GridOptions grid{.scale = a.scale};

  if (a.kind == "filters") {
    std::string layer = a.layer;
    if (layer.empty()) {
      auto convs = viz::conv_layers(net);
      if (convs.empty()) fail<ValueError>(a.model, " has no convolution layer, so no filters to draw");
      layer = convs.front();
    }
    viz::write_picture(a.output, viz::filter_grid(net, layer, grid), "filters of " + layer);
    std::printf("Wrote %s (filters of %s)\n", a.output.c_str(), layer.c_str());
  } else if (a.kind == "confusion") {
    data::FashionMnist d = load_data(a.dataset);
    const train::Classified c = train::classify(*model, d.test.x, d.test.y);
    write_text(a.output, viz::confusion_svg(c.counts, class_names(c.classes),
                                            "Confusion matrix (" + std::to_string(d.test.x.size(0)) + " test images)"));
    std::printf("Wrote %s\n", a.output.c_str());
  } else {
    Tensor x = input_image(*model, a);
    if (a.kind == "feature-maps") {
      std::string layer = a.layer;
      if (layer.empty()) {
        auto convs = viz::conv_layers(net);
        layer = convs.empty() ? net.layers().front()->name() : convs.front();
      }
      Tensor act = viz::layer_output(net, x, layer);
      viz::write_picture(a.output, viz::feature_map_grid(act, grid), "feature maps of " + layer);
      std::printf("Wrote %s (%s output %s)\n", a.output.c_str(), layer.c_str(), shape_str(act.shape()).c_str());
    } else if (a.kind == "saliency") {
      const auto [cls, name] = chosen_class(*model, x, a.cls);
      Tensor g = viz::saliency(net, x, cls);
      viz::write_picture(a.output, viz::saliency_picture(x, g, a.scale > 0 ? a.scale : 8), "saliency for " + name);
      std::printf("Wrote %s (saliency of class %lld)\n", a.output.c_str(), static_cast<long long>(cls));
    } else if (a.kind == "occlusion") {
      const auto [cls, name] = chosen_class(*model, x, a.cls);
      viz::OcclusionOptions o{.patch = a.patch, .stride = a.stride};
      Tensor map = viz::occlusion(net, x, cls, o);
      viz::write_picture(a.output, viz::occlusion_picture(x, map, o, a.scale > 0 ? a.scale : 8),
                         "occlusion sensitivity for " + name);
      std::printf("Wrote %s (occlusion of class %lld, %lldx%lld positions)\n", a.output.c_str(),
                  static_cast<long long>(cls), static_cast<long long>(map.size(0)), static_cast<long long>(map.size(1)));
    } else {
      fail<ValueError>("visualize expects model, filters, feature-maps, saliency, occlusion, confusion or curves, got '",
                       a.kind, "'");
    }
  }
  return 0;
}

int report_command(const std::string& run_dir, const std::string& dataset) {
  const std::string kind = file_kind(run_dir);
  if (kind == "no such file") fail<ValueError>("no such directory: ", run_dir, "; usage: ", kReportUsage);
  if (kind != "a directory")
    fail<ValueError>(run_dir, " is ", kind.empty() ? "a file" : kind,
                     ", not a run directory (train --report-dir DIR writes one); usage: ", kReportUsage);
  std::vector<std::string> names;
  train::Settings settings = train::read_settings(run_dir, &names);
  auto model = load_model(run_dir, kReportUsage);
  train::History history = train::read_csv_log(run_dir + "/history.csv");
  std::string from = dataset;
  double split = 0;
  std::int64_t held_out = -1;  // the count fit held out: exact, where the split is printed to 6 digits
  for (const auto& [k, v] : settings) {
    if (k == "dataset" && from.empty()) from = v;
    if (k == "validation_split") split = std::atof(v.c_str());
    if (k == "validation examples") held_out = std::atoll(v.c_str());
  }
  data::FashionMnist d = load_data(from.empty() ? "fashion-mnist" : from);
  // The data the run validated on: the end of the training set that fit held out, or the test set.
  Tensor x = d.test.x, y = d.test.y;
  const std::int64_t n = d.train.x.size(0);
  const std::int64_t n_val = held_out > 0 ? held_out : static_cast<std::int64_t>(static_cast<double>(n) * split);
  if (split > 0 && n_val > 0 && n_val < n) {
    x = d.train.x.slice(0, n - n_val, n);
    y = d.train.y.slice(0, n - n_val, n);
  }
  std::string path = train::write_report(run_dir, *model, history, x, y, settings, {.class_names = names});
  std::printf("Wrote %s\n", path.c_str());
  return 0;
}

int experiment_command(const ExperimentArgs& a) {
  if (a.name != "shift-invariance") fail<ValueError>("experiment expects shift-invariance, got '", a.name, "'");
  if (!viz::has_extension(a.output, ".svg")) fail<ValueError>("-o expects a file ending in .svg, got '", a.output, "'");
  data::FashionMnist d = load_data(a.dataset);
  auto curves = train::shift_invariance(d, a.options);
  std::printf("%-22s", "test accuracy, shift");
  for (std::size_t s = 0; s < curves.front().accuracy.size(); ++s) std::printf(" %5zupx", s);
  std::printf("\n");
  for (const auto& c : curves) {
    std::printf("%-22s", c.label.c_str());
    for (double v : c.accuracy) std::printf(" %6.1f%%", 100 * v);
    std::printf("\n");
  }
  write_text(a.output, train::shift_invariance_svg(curves));
  std::printf("Wrote %s\n", a.output.c_str());
  return 0;
}

}  // namespace

void add_inspect_commands(CLI::App& app, Runs& runs) {
  auto v = std::make_shared<VisualizeArgs>();
  auto* viz = app.add_subcommand("visualize", "draw a model's layer graph, filters, feature maps, saliency, "
                                              "occlusion, confusion matrix or training curves");
  viz->add_option("KIND", v->kind, "model, filters, feature-maps, saliency, occlusion, confusion or curves")
      ->required()
      ->check(one_of({"model", "filters", "feature-maps", "saliency", "occlusion", "confusion", "curves"}));
  viz->add_option("MODEL", v->model, "a .cortex file or run directory (curves: a history CSV or run directory)")
      ->required();
  viz->add_option("IMAGE", v->image, "a PNG (feature-maps, saliency, occlusion; default: test image --index)");
  viz->add_option("--layer", v->layer, "the layer (default: the first conv layer)");
  viz->add_option("-o,--output", v->output, "OUT.png or OUT.svg (default: KIND.png, or KIND.svg for charts and the model graph, whose DOT file goes beside it)");
  viz->add_option("--index", v->index, "test image used when no IMAGE is given")->check(at_least(0))
      ->capture_default_str();
  viz->add_option("--class", v->cls, "class for saliency and occlusion (default: the predicted one)")
      ->check(at_least(-1));
  viz->add_option("--patch", v->patch, "occluder side in pixels")->check(at_least(1))->capture_default_str();
  viz->add_option("--stride", v->stride, "occluder step in pixels")->check(at_least(1))->capture_default_str();
  viz->add_option("--scale", v->scale, "pixels per value (default: automatic)")->check(in_range(0, 256, false, true));
  viz->add_option("--dataset", v->dataset, "fashion-mnist or a directory of MNIST-format files")
      ->capture_default_str();
  viz->add_flag("--raw", v->raw, "take IMAGE as it is (see cortex predict --help)");
  runs[viz] = [v] { return visualize_command(*v); };

  struct Report {
    std::string run_dir, dataset;
  };
  auto r = std::make_shared<Report>();
  auto* report = app.add_subcommand("report", "write RUN_DIR/report.html: one self-contained page about a run");
  report->add_option("RUN_DIR", r->run_dir, "a directory written by train --report-dir")->required();
  report->add_option("--dataset", r->dataset, "test data (default: the run's dataset)");
  runs[report] = [r] { return report_command(r->run_dir, r->dataset); };

  auto x = std::make_shared<ExperimentArgs>();
  auto* exp = app.add_subcommand("experiment", "run one of the course's experiments");
  exp->add_option("NAME", x->name, "shift-invariance")->required()->check(one_of({"shift-invariance"}));
  exp->add_option("-o,--output", x->output, "the chart, OUT.svg")->capture_default_str();
  exp->add_option("--dataset", x->dataset)->capture_default_str();
  exp->add_option("--epochs", x->options.epochs)->check(at_least(1))->capture_default_str();
  exp->add_option("--batch-size", x->options.batch_size)->check(at_least(1))->capture_default_str();
  exp->add_option("--max-shift", x->options.max_shift, "test shifts 0..N pixels")->check(at_least(0))
      ->capture_default_str();
  exp->add_option("--augment-shift", x->options.augment_shift, "training shifts up to N pixels (0: --max-shift)")
      ->check(at_least(0));
  exp->add_option("--test-samples", x->options.test_samples, "first N test images (0: all)")->check(at_least(0))
      ->capture_default_str();
  exp->add_option("--max-steps", x->options.max_steps, "cap the training batches of each epoch")->check(at_least(0));
  exp->add_option("--seed", x->options.seed)->check(at_least(0))->capture_default_str();
  exp->add_option("--verbose", x->options.verbose, "0 silent, 1 progress bar, 2 one line per epoch")
      ->check(one_of({"0", "1", "2"}))
      ->capture_default_str();
  runs[exp] = [x] { return experiment_command(*x); };
}

}  // namespace cortex::cli
