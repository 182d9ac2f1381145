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
  std::string loss = "categorical_crossentropy";
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
  std::string summary();

  // Weights, optimizer state, training state and the architecture, written
  // atomically in the safetensors layout (model.cortex), from whatever device.
  void save(const std::string& path) const;
  // Restores weights, optimizer and training state saved by this model's save()
  // onto the model's device.
  void load_weights(const std::string& path);

  // Moves the network to `device` (model.to(Device::cuda())), with the
  // optimizer's state when compiled; fit, evaluate and predict then move each
  // batch there, and predict hands back CPU tensors. Returns *this.
  Model& to(Device device);
  Device device() const { return net_->device(); }

  nn::Module& network() { return *net_; }
  // The per-sample shape of the model's one input when the model declares it
  // (a Sequential's Input, a functional model's only Input without free axes).
  std::optional<Shape> input_shape() const;
  optim::Optimizer& optimizer();
  bool compiled() const { return optimizer_ != nullptr; }
  const std::string& loss_name() const { return loss_.name; }
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
  Tensor forward_for_loss(const Tensor& x, bool& from_logits);
  void set_precision(const std::string& precision, const char* what);
  bool autocast_ = false;  // set by fit/evaluate from their precision
  // Creates o.report_dir and writes its settings.json (fit's report_dir); returns the settings.
  std::vector<std::pair<std::string, std::string>> start_run_record(const FitOptions& o, const Tensor& x, std::int64_t val_examples);
  // One epoch of training; `done` counts its batches (fewer than `steps` when stopped).
  Logs run_epoch(data::DataLoader& loader, std::int64_t steps, const std::vector<std::shared_ptr<Callback>>& cbs,
                 std::int64_t& done);

  std::shared_ptr<nn::Module> net_;
  std::shared_ptr<Generator> gen_;
  std::shared_ptr<optim::Optimizer> optimizer_;
  losses::Loss loss_{};
  std::vector<std::string> metrics_;   // as the user named them ("accuracy"): the log keys
  std::vector<std::string> resolved_;  // what each computes ("categorical_accuracy")
  int epoch_ = 0;
  std::string interrupt_reason_;  // set by interrupt() during fit
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
