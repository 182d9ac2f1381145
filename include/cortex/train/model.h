// Model: Keras's compile / fit / evaluate / predict / summary / save around a network.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cortex/data/loader.h"
#include "cortex/losses/losses.h"
#include "cortex/nn/sequential.h"
#include "cortex/optim/optimizer.h"
#include "cortex/train/callbacks.h"

namespace cortex::train {

struct CompileOptions {
  std::string loss = "categorical_crossentropy";  // every output's, unless `losses` gives one per output
  // A model with several outputs: one loss per output, in the order of the
  // model's outputs (Keras's list of losses), and the weight of each in the
  // total that is minimised (default 1 each). Metrics apply to every output.
  std::vector<std::string> losses = {};
  std::vector<double> loss_weights = {};
  std::shared_ptr<optim::Optimizer> optimizer;  // e.g. std::make_shared<optim::Adadelta>(...)
  std::string optimizer_name = "rmsprop";       // used when `optimizer` is null (Keras's default)
  std::vector<std::string> metrics = {};
};

// What a run's report shows besides the run itself (cortex/train/report.h).
struct ReportOptions {
  std::vector<std::string> class_names;                       // default "0", "1", ...
  std::vector<std::pair<std::string, std::string>> settings;  // extra rows (dataset, model, ...)
  std::int64_t confused_examples = 16;                        // wrong predictions shown, most confident first
};

struct FitOptions {
  std::int64_t batch_size = 32;
  int epochs = 1;
  int verbose = 1;  // 0 silent, 1 progress bar, 2 one line per epoch
  std::optional<std::pair<Tensor, Tensor>> validation_data;
  // validation_data for a model with several inputs or outputs: the inputs, then the targets.
  std::optional<std::pair<std::vector<Tensor>, std::vector<Tensor>>> validation_lists;
  double validation_split = 0.0;  // the last fraction of (x, y), as Keras takes it
  bool shuffle = true;
  std::vector<std::shared_ptr<Callback>> callbacks;
  int initial_epoch = 0;
  std::uint64_t seed = 0;       // shuffling and augmentation
  std::int64_t max_steps = 0;   // caps the training batches of each epoch (0: all); validation sees all
  data::Transform augment = {};  // applied to each training batch
  std::string resume_from;       // a checkpoint of this model: continue exactly where it was
  // "fp32", or "bf16": matmuls and convolutions in bf16 with fp32 master weights,
  // loss and softmax (cortex/ops/autocast.h); needs the model on a CUDA device.
  std::string precision = "fp32";
  // A directory for the run's record: settings.json at the start, history.csv
  // after each epoch, model.cortex and report.html (cortex/train/report.h) at the end.
  std::string report_dir;
  ReportOptions report = {};
};

// Where fit stopped when Model::interrupt ended it inside an epoch.
struct Interruption {
  std::string reason;        // who asked: "SIGINT", "SIGTERM", or a caller's words
  int epoch = 0;             // the epoch it stopped in, 0-based
  int epochs = 0;            // the epochs fit was asked for
  std::int64_t batches = 0;  // batches of that epoch done
  std::int64_t steps = 0;    // batches in a whole epoch
  // "SIGINT in epoch 3 of 12, after 120 of 469 batches"
  std::string describe() const;
};

struct History {
  std::vector<int> epochs;
  std::map<std::string, std::vector<double>> history;  // "loss", "accuracy", "val_loss", ...
  std::optional<Interruption> interrupted;             // set when Model::interrupt ended fit
};

// Reads a CSVLogger file back into a History. A missing file, a header
// without "epoch", a row with the wrong number of fields or a field that is
// not a number is a cortex::Error naming the file and the line.
History read_csv_log(const std::string& path);

struct EvaluateOptions {
  std::int64_t batch_size = 32;
  int verbose = 0;
  std::int64_t max_steps = 0;
  std::string precision = "fp32";  // as in FitOptions
};

namespace detail {
class Batches;  // fit's and evaluate's batches of one or several tensors (model.cpp)
}

class Model {
 public:
  // Any network: a Sequential, a Functional graph, or a Module of your own.
  explicit Model(std::shared_ptr<nn::Module> network, std::uint64_t seed = 0);
  // Keras's functional model: Model model({x}, {y}) over the graph from the inputs to the outputs.
  Model(std::vector<nn::Symbolic> inputs, std::vector<nn::Symbolic> outputs, std::uint64_t seed = 0);
  virtual ~Model() = default;

  void compile(CompileOptions options);
  History fit(const Tensor& x, const Tensor& y, FitOptions options = {});
  Logs evaluate(const Tensor& x, const Tensor& y, EvaluateOptions options = {});
  Tensor predict(const Tensor& x, std::int64_t batch_size = 32);
  // The same for a model with several inputs or outputs: one tensor per input
  // and one per output, in the model's order. With several outputs the logs
  // hold "loss" (the weighted total) and, per output, "<layer>_loss" and
  // "<layer>_<metric>", named by the output's layer as Keras names them.
  // Augmentation and report_dir take one input and one output.
  History fit(const std::vector<Tensor>& x, const std::vector<Tensor>& y, FitOptions options = {});
  Logs evaluate(const std::vector<Tensor>& x, const std::vector<Tensor>& y, EvaluateOptions options = {});
  std::vector<Tensor> predict(const std::vector<Tensor>& x, std::int64_t batch_size = 32);
  // The network's inputs and outputs, and the names of the outputs (their layers').
  std::size_t num_inputs() const;
  std::size_t num_outputs() const;
  std::vector<std::string> output_names() const;
  std::string summary();

  // Weights, optimizer state, training state and the architecture, written
  // atomically in the safetensors layout (model.cortex), from whatever device.
  // Builds the model first if it has not run (from its Input shape).
  void save(const std::string& path);
  // Restores weights, optimizer and training state saved by this model's save()
  // onto the model's device.
  void load_weights(const std::string& path);

  // Moves the network to `device` (model.to(Device::cuda())), with the
  // optimizer's state when compiled; fit, evaluate and predict then move each
  // batch there, and predict hands back CPU tensors. Returns *this.
  Model& to(Device device);
  Device device() const { return net_->device(); }

  nn::Module& network() { return *net_; }
  // Forgets the states stateful recurrent layers carry between batches (Keras's reset_states).
  void reset_states() { net_->reset_states(); }
  // Strings that save() stores with the model and load_model() restores: what
  // a program needs to use the model later (a language model's vocabulary,
  // the names of the classes).
  std::map<std::string, std::string>& metadata() { return metadata_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // The per-sample shape of the model's one input when the model declares it
  // (a Sequential's Input, a functional model's only Input without free axes).
  std::optional<Shape> input_shape() const;
  optim::Optimizer& optimizer();
  bool compiled() const { return optimizer_ != nullptr; }
  const std::string& loss_name() const { return losses_.at(0).name; }  // the first output's
  const std::vector<std::string>& metric_names() const { return metrics_; }
  int epoch() const { return epoch_; }  // epochs completed
  // Callbacks set it to end fit (Keras): from on_epoch_end, after that epoch; from
  // on_batch_end, after that batch, the epoch then ending as usual (its figures
  // cover the batches done, validation runs, on_epoch_end is called).
  bool stop_training = false;
  // stop_training from a batch callback, with a reason that fit records:
  // History::interrupted, and the run's record (report_dir) marks the run.
  void interrupt(std::string reason);

 private:
  // The outputs for inputs xs; from_logits[i] says output i is the logits of
  // a softmax that its loss fuses with (a Sequential's last activation).
  std::vector<Tensor> forward_for_loss(const std::vector<Tensor>& xs, std::vector<bool>& from_logits);
  // Adds one batch's per-output losses and metric hits (sums over its samples) into `sums`.
  void add_batch_figures(Logs& sums, const std::vector<Tensor>& ys, const std::vector<Tensor>& outs,
                         const std::vector<bool>& from_logits, const std::vector<double>& output_losses);
  std::string log_key(std::size_t output, const std::string& what) const;
  // Builds the network if it has not run: a functional graph by its probe, a
  // Sequential from its Input shape; a ValueError naming `what` otherwise.
  void ensure_built(const char* what);
  void set_precision(const std::string& precision, const char* what);
  bool autocast_ = false;  // set by fit/evaluate from their precision
  // Creates o.report_dir and writes its settings.json (fit's report_dir); returns the settings.
  std::vector<std::pair<std::string, std::string>> start_run_record(const FitOptions& o, const Tensor& x, std::int64_t val_examples);
  // One epoch of training; `done` counts its batches (fewer than `steps` when stopped).
  Logs run_epoch(detail::Batches& batches, std::int64_t steps, const std::vector<std::shared_ptr<Callback>>& cbs,
                 std::int64_t& done);
  History fit_lists(std::vector<Tensor> x, std::vector<Tensor> y, FitOptions o);

  std::shared_ptr<nn::Module> net_;
  std::shared_ptr<Generator> gen_;
  std::shared_ptr<optim::Optimizer> optimizer_;
  std::vector<losses::Loss> losses_{losses::Loss{}};  // one per output
  std::vector<double> loss_weights_;                 // one per output
  std::vector<std::string> output_log_names_;        // output_names(), taken at compile
  std::vector<std::string> metrics_;                 // as the user named them ("accuracy"): the log keys
  std::vector<std::vector<std::string>> resolved_;   // per output, what each metric computes ("categorical_accuracy")
  int epoch_ = 0;
  std::string interrupt_reason_;  // set by interrupt() during fit
  std::map<std::string, std::string> metadata_;
};

// Keras's Sequential model: Sequential model({Input({28, 28, 1}), Conv2D(...), ...}).
class Sequential : public Model {
 public:
  Sequential(std::initializer_list<nn::Layer> layers, std::uint64_t seed = 0);
};

// A Sequential network from an architecture description:
// {"input_shape": [28, 28, 1], "layers": [{"type": "Dense", "config": {"units": 10}}, ...]}
// (the form save() stores; options left out take their defaults).
std::shared_ptr<nn::Sequential> sequential_from_json(const std::string& json);

// Rebuilds a model from a file written by save(): architecture, weights,
// compile settings, optimizer and training state, on the CPU (move it with
// to()). Bad files raise cortex::Error.
std::unique_ptr<Model> load_model(const std::string& path);

}  // namespace cortex::train
