// Model: compile, the fit loop, evaluate and predict.
#include "cortex/train/model.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <algorithm>
#include <optional>

#include <nlohmann/json.hpp>

#include "cortex/autograd/grad_mode.h"
#include "cortex/core/profiler.h"
#include "cortex/core/threads.h"
#include "cortex/nn/init.h"
#include "cortex/ops/autocast.h"
#include "cortex/ops/elementwise.h"
#include "cortex/ops/reduce.h"
#include "cortex/ops/shape_ops.h"
#include "cortex/train/metrics.h"
#include "cortex/train/report.h"

namespace cortex::train {

Model::Model(std::shared_ptr<nn::Module> network, std::uint64_t seed)
    : net_(std::move(network)), gen_(std::make_shared<Generator>(seed)) {
  if (!net_) fail<ValueError>("Model expects a network, got null");
  net_->set_generator(gen_);
}

Model::Model(std::vector<nn::Symbolic> inputs, std::vector<nn::Symbolic> outputs, std::uint64_t seed)
    : Model(std::make_shared<nn::Functional>(std::move(inputs), std::move(outputs)), seed) {}

std::optional<Shape> Model::input_shape() const {
  if (auto* seq = dynamic_cast<const nn::Sequential*>(net_.get())) return seq->input_shape();
  if (auto* f = dynamic_cast<const nn::Functional*>(net_.get()); f && f->inputs().size() == 1) {
    const Shape& s = f->inputs()[0].shape();
    if (std::none_of(s.begin(), s.end(), [](auto d) { return d < 0; })) return s;
  }
  return std::nullopt;
}

Sequential::Sequential(std::initializer_list<nn::Layer> layers, std::uint64_t seed)
    : Model(std::make_shared<nn::Sequential>(layers), seed) {}

optim::Optimizer& Model::optimizer() {
  if (!optimizer_) fail<ValueError>("the model is not compiled: call compile({...}) before fit or evaluate");
  return *optimizer_;
}

void Model::compile(CompileOptions o) {
  loss_ = losses::loss_by_name(o.loss);
  optimizer_ = o.optimizer ? o.optimizer : std::shared_ptr<optim::Optimizer>(optim::make_optimizer(o.optimizer_name));
  metrics_ = o.metrics;
  resolved_.clear();
  for (const auto& m : o.metrics) resolved_.push_back(resolve_metric(m, loss_.name));
  if (auto* graph = dynamic_cast<nn::Functional*>(net_.get()); graph && !graph->built()) graph->build({});
  if (net_->built()) optimizer_->set_params(net_->parameters());
}

Model& Model::to(Device device) {
  net_->to(device);
  // The parameters moved in place; set_params makes slots beside them and
  // load_state carries the old slots over (a no-op move on the same device).
  if (optimizer_ && !optimizer_->params().empty()) {
    optim::NamedTensors state = optimizer_->state();
    optimizer_->set_params(net_->parameters());
    optimizer_->load_state(state);
  }
  return *this;
}

std::string Model::summary() {
  if (auto* seq = dynamic_cast<nn::Sequential*>(net_.get())) return seq->summary();
  if (auto* f = dynamic_cast<nn::Functional*>(net_.get())) return f->summary();
  fail<ValueError>("summary needs a Sequential or functional model; this one is a ", net_->type());
}

Tensor Model::forward_for_loss(const Tensor& x, bool& from_logits) {
  AutocastScope autocast(autocast_);
  auto* seq = dynamic_cast<nn::Sequential*>(net_.get());
  from_logits = seq && !loss_.fuses_with.empty() && seq->final_activation() == loss_.fuses_with;
  Tensor out = from_logits ? seq->forward_logits(x) : (*net_)(x);
  // Under autocast the last layer may hand back bf16; the loss and the metrics take f32.
  return out.dtype() == DType::bf16 && x.dtype() != DType::bf16 ? out.to(DType::f32) : out;
}

void Model::set_precision(const std::string& precision, const char* what) {
  if (precision != "fp32" && precision != "bf16")
    fail<ValueError>(what, " expects precision \"fp32\" or \"bf16\", got \"", precision, "\"");
  if (precision == "bf16" && !device().is_cuda())
    fail<ValueError>(what, " with precision \"bf16\" needs the model on a CUDA device (model.to(Device::cuda())); "
                     "bf16 on the CPU is not built yet, and this model is on ", device().str());
  autocast_ = precision == "bf16";
}

namespace {

void check_xy(const Tensor& x, const Tensor& y, const char* what) {
  if (!x.defined() || !y.defined()) fail<ValueError>(what, " expects x and y tensors, got an undefined one");
  if (x.dim() < 1 || y.dim() < 1 || x.shape()[0] != y.shape()[0])
    fail<ShapeError>(what, " expects x and y with the same number of samples, got x ", shape_str(x.shape()),
                     " and y ", shape_str(y.shape()));
  if (x.shape()[0] == 0)
    fail<ValueError>(what, " expects at least one sample, got x ", shape_str(x.shape()), " and y ",
                     shape_str(y.shape()));
}

// Adds a batch's sums into the epoch's running sums.
void accumulate(Logs& sums, const std::string& name, double value) { sums[name] += value; }

}  // namespace

std::string Interruption::describe() const {
  return reason + " in epoch " + std::to_string(epoch + 1) + " of " + std::to_string(epochs) + ", after " +
         std::to_string(batches) + " of " + std::to_string(steps) + " batches";
}

void Model::interrupt(std::string reason) {
  interrupt_reason_ = reason.empty() ? "interrupted" : std::move(reason);
  stop_training = true;
}

Logs Model::run_epoch(data::DataLoader& loader, std::int64_t steps, const std::vector<std::shared_ptr<Callback>>& cbs,
                      std::int64_t& done) {
  Logs sums;
  std::int64_t seen = 0, queued = 0;
  done = 0;
  net_->train();
  // A step's results, read back (loss, metrics, callbacks) by finish().
  struct Step {
    Tensor total, y, out;
    bool from_logits = false;
  };
  auto finish = [&](const Step& s) {
    const std::int64_t n = s.y.shape()[0];
    seen += n;
    accumulate(sums, "loss", s.total.item() * n);
    Logs batch_logs{{"loss", sums["loss"] / seen}};
    {
      NoGradGuard no_grad;
      Tensor probs = s.from_logits ? nn::activate(loss_.fuses_with, s.out) : s.out;
      for (std::size_t i = 0; i < metrics_.size(); ++i) {
        accumulate(sums, metrics_[i], metric_hits(resolved_[i], s.y, probs));
        batch_logs[metrics_[i]] = sums[metrics_[i]] / seen;
      }
    }
    ++done;
    for (auto& cb : cbs) cb->on_batch_end(*this, done, batch_logs);
  };
  // On a GPU, step i is read back only once step i + 1 has been queued, so the
  // device never waits for the host between steps (batch callbacks run one
  // step late there). On the CPU every step finishes before the next starts.
  const bool lag = device().is_cuda();
  std::optional<Step> pending;
  // Regions for profiler::table (cortex/core/profiler.h); "data" is the wait for the loader.
  auto mark = std::chrono::steady_clock::now();
  for (const data::Batch& batch : loader) {
    if (queued == steps) break;
    if (profiler::enabled())
      profiler::add("data", std::chrono::duration<double>(std::chrono::steady_clock::now() - mark).count());
    profiler::Scope step_scope("step");
    Step s;
    Tensor total;
    {
      profiler::Scope scope("forward + loss");
      data::Batch b{batch.x.to(device()), batch.y.to(device())};  // the loader makes CPU batches
      s.y = b.y;
      s.out = forward_for_loss(b.x, s.from_logits);
      Tensor loss = losses::compute(loss_, b.y, s.out, s.from_logits);
      Tensor reg = net_->regularization_loss();
      total = reg.defined() ? loss + reg : loss;
    }
    {
      profiler::Scope scope("backward");
      optimizer_->zero_grad();
      total.backward();
    }
    {
      profiler::Scope scope("optimizer");
      optimizer_->step();
    }
    ++queued;
    s.total = total.detach();
    s.out = s.out.detach();
    {
      profiler::Scope scope("metrics + callbacks");
      if (lag) {
        if (pending) finish(*pending);
        pending = std::move(s);
      } else {
        finish(s);
      }
    }
    if (stop_training) break;
    mark = std::chrono::steady_clock::now();
  }
  if (pending) finish(*pending);
  Logs logs;
  for (auto& [k, v] : sums) logs[k] = seen ? v / seen : NAN;
  return logs;
}

History Model::fit(const Tensor& x_in, const Tensor& y_in, FitOptions o) {
  check_xy(x_in, y_in, "fit");
  if (!compiled()) optimizer();  // throws the "not compiled" error
  if (o.batch_size < 1) fail<ValueError>("fit expects batch_size >= 1, got ", o.batch_size);
  if (o.epochs < 0 || o.initial_epoch < 0)
    fail<ValueError>("fit expects epochs >= 0 and initial_epoch >= 0, got epochs ", o.epochs, " and initial_epoch ",
                     o.initial_epoch);
  set_precision(o.precision, "fit");
  if (!(o.validation_split >= 0.0 && o.validation_split < 1.0))
    fail<ValueError>("fit expects validation_split in [0, 1), got ", o.validation_split);
  Tensor x = x_in, y = y_in;
  std::optional<std::pair<Tensor, Tensor>> val = o.validation_data;
  if (o.validation_split > 0.0 && !val) {
    std::int64_t n = x.shape()[0], n_val = static_cast<std::int64_t>(n * o.validation_split);
    if (n_val == 0 || n_val == n)  // Keras refuses a split that leaves either side empty
      fail<ValueError>("fit's validation_split ", o.validation_split, " of ", n, " samples leaves ", n - n_val,
                       " for training and ", n_val, " for validation; each needs at least one");
    val = std::make_pair(x.slice(0, n - n_val, n), y.slice(0, n - n_val, n));
    x = x.slice(0, 0, n - n_val);
    y = y.slice(0, 0, n - n_val);
  }
  if (val) check_xy(val->first, val->second, "fit's validation_data");
  net_->build(x.shape());
  if (optimizer_->params().empty()) optimizer_->set_params(net_->parameters());
  if (!o.resume_from.empty()) {
    load_weights(o.resume_from);
    o.initial_epoch = epoch_;
  }
  data::DataLoader loader(x, y, {.batch_size = o.batch_size, .shuffle = o.shuffle, .seed = o.seed,
                                 .transform = o.augment});
  std::int64_t steps = loader.num_batches();
  if (o.max_steps > 0) steps = std::min(steps, o.max_steps);

  std::vector<std::shared_ptr<Callback>> cbs;
  std::vector<std::pair<std::string, std::string>> settings;  // the run's record (report_dir)
  if (o.verbose > 0) cbs.push_back(std::make_shared<ProgressBar>(o.verbose, o.epochs, steps));
  for (auto& cb : o.callbacks) cbs.push_back(cb);
  if (!o.report_dir.empty()) {
    settings = start_run_record(o, x, val ? val->first.shape()[0] : 0);
    cbs.push_back(std::make_shared<CSVLogger>(o.report_dir + "/history.csv", o.initial_epoch > 0));
  }
  History history;
  stop_training = false;
  interrupt_reason_.clear();
  for (auto& cb : cbs) cb->on_train_begin(*this);
  for (int e = o.initial_epoch; e < o.epochs && !stop_training; ++e) {
    for (auto& cb : cbs) cb->on_epoch_begin(*this, e);
    loader.set_epoch(e);
    std::int64_t done = 0;
    Logs logs = run_epoch(loader, steps, cbs, done);
    if (val) {  // always the whole validation set: max_steps caps training only
      Logs v = evaluate(val->first, val->second, {.batch_size = o.batch_size, .precision = o.precision});
      for (auto& [k, value] : v) logs["val_" + k] = value;
    }
    epoch_ = e + 1;
    for (auto& cb : cbs) cb->on_epoch_end(*this, e, logs);
    if (!interrupt_reason_.empty() && !history.interrupted)
      history.interrupted = Interruption{interrupt_reason_, e, o.epochs, done, steps};
    history.epochs.push_back(e);
    for (auto& [k, value] : logs) history.history[k].push_back(value);
  }
  for (auto& cb : cbs) cb->on_train_end(*this);
  net_->eval();
  if (!o.report_dir.empty()) {
    if (history.interrupted) {  // the record says where the run stopped
      settings.emplace_back("interrupted", history.interrupted->describe());
      write_settings(o.report_dir, settings, o.report.class_names);
    }
    save(o.report_dir + "/model.cortex");
    // The page shows the whole run, resumed epochs included: the log holds them
    // all (it is empty or absent when no epoch ran).
    const std::string log = o.report_dir + "/history.csv";
    std::error_code ec;
    const auto log_size = std::filesystem::file_size(log, ec);
    History whole = !ec && log_size > 0 ? read_csv_log(log) : history;
    if (val)
      write_report(o.report_dir, *this, whole, val->first, val->second, settings, o.report);
    else
      write_report(o.report_dir, *this, whole, x, y, settings, o.report);
  }
  return history;
}

namespace {
std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// "Adadelta (epsilon 1e-07, learning_rate 1, rho 0.95)": the optimizer's set options.
std::string describe(const optim::Optimizer& opt) {
  nlohmann::json j = nlohmann::json::parse(opt.config_json());
  std::string out;
  for (const auto& [k, v] : j["config"].items())
    if (!v.is_null()) out += (out.empty() ? "" : ", ") + k + " " + v.dump();
  return opt.name() + (out.empty() ? "" : " (" + out + ")");
}
}  // namespace

Settings Model::start_run_record(const FitOptions& o, const Tensor& x, std::int64_t val_examples) {
  {  // The report's options must fit the model before training, not after it.
    NoGradGuard no_grad;
    const bool was_training = net_->is_training();
    net_->eval();
    Tensor out = (*net_)(x.slice(0, 0, 1).to(device()));
    net_->train(was_training);
    check_report_options(o.report, out.dim() == 2 ? (out.size(1) == 1 ? 2 : out.size(1)) : 0);
  }
  const std::int64_t train_examples = x.shape()[0];
  std::error_code ec;
  std::filesystem::create_directories(o.report_dir, ec);
  if (ec) fail<Error>("fit cannot create the report directory ", o.report_dir, ": ", ec.message());
  const std::time_t now = std::time(nullptr);
  char started[32];
  std::strftime(started, sizeof started, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&now));
  std::string metrics;
  for (const auto& m : metrics_) metrics += (metrics.empty() ? "" : ", ") + m;
  Settings s = {{"started", started},
                {"loss", loss_.name},
                {"optimizer", describe(*optimizer_)},
                {"metrics", metrics},
                {"batch_size", std::to_string(o.batch_size)},
                {"epochs", std::to_string(o.epochs)},
                {"initial_epoch", std::to_string(o.initial_epoch)},
                {"training examples", std::to_string(train_examples)},
                {"validation examples", std::to_string(val_examples)},
                {"validation_split", number(o.validation_data ? 0.0 : o.validation_split)},
                {"shuffle", o.shuffle ? "yes" : "no"},
                {"augmentation", o.augment ? "yes" : "no"},
                {"seed", std::to_string(o.seed)},
                {"max_steps", o.max_steps > 0 ? std::to_string(o.max_steps) : "all"},
                {"precision", o.precision},
                {"device", device().str()},
                {"threads", std::to_string(num_threads())}};
  s.insert(s.end(), o.report.settings.begin(), o.report.settings.end());
  write_settings(o.report_dir, s, o.report.class_names);
  return s;
}

Logs Model::evaluate(const Tensor& x, const Tensor& y, EvaluateOptions o) {
  check_xy(x, y, "evaluate");
  if (!compiled()) optimizer();
  set_precision(o.precision, "evaluate");
  NoGradGuard no_grad;
  bool was_training = net_->is_training();
  net_->eval();
  data::DataLoader loader(x, y, {.batch_size = o.batch_size, .shuffle = false, .prefetch = 0});
  Logs sums;
  std::int64_t seen = 0, done = 0;
  for (const data::Batch& batch : loader) {
    if (o.max_steps > 0 && done == o.max_steps) break;
    data::Batch b{batch.x.to(device()), batch.y.to(device())};
    bool from_logits = false;
    Tensor out = forward_for_loss(b.x, from_logits);
    std::int64_t n = b.x.shape()[0];
    seen += n;
    sums["loss"] += losses::compute(loss_, b.y, out, from_logits).item() * n;
    Tensor probs = from_logits ? nn::activate(loss_.fuses_with, out) : out;
    for (std::size_t i = 0; i < metrics_.size(); ++i) sums[metrics_[i]] += metric_hits(resolved_[i], b.y, probs);
    ++done;
  }
  net_->train(was_training);
  Logs logs;
  for (auto& [k, v] : sums) logs[k] = seen ? v / seen : NAN;
  if (o.verbose > 0) {
    for (auto& [k, v] : logs) std::printf("%s: %.4f  ", k.c_str(), v);
    std::printf("\n");
  }
  return logs;
}

Tensor Model::predict(const Tensor& x, std::int64_t batch_size) {
  if (!x.defined() || x.dim() < 1) fail<ValueError>("predict expects a batch of inputs");
  if (batch_size < 1) fail<ValueError>("predict expects batch_size >= 1, got ", batch_size);
  NoGradGuard no_grad;
  bool was_training = net_->is_training();
  net_->eval();
  std::vector<Tensor> outs;
  for (std::int64_t i = 0; i < x.shape()[0]; i += std::min(batch_size, x.shape()[0] - i)) {
    Tensor xb = x.slice(0, i, i + std::min(batch_size, x.shape()[0] - i)).contiguous().to(device());
    outs.push_back((*net_)(xb).to(Device::cpu()));
  }
  net_->train(was_training);
  if (outs.empty()) fail<ValueError>("predict got an empty batch");
  return outs.size() == 1 ? outs[0] : concat(outs, 0);
}

}  // namespace cortex::train
