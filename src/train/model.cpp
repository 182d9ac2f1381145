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
#include "cortex/ops/creation.h"
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

std::size_t Model::num_inputs() const {
  if (auto* f = dynamic_cast<const nn::Functional*>(net_.get())) return f->inputs().size();
  return 1;
}

std::size_t Model::num_outputs() const {
  if (auto* f = dynamic_cast<const nn::Functional*>(net_.get())) return f->outputs().size();
  return 1;
}

std::vector<std::string> Model::output_names() const {
  std::vector<std::string> names;
  if (auto* f = dynamic_cast<const nn::Functional*>(net_.get())) {
    // Two outputs of one layer (return_state, a shared layer) get Keras's _1, _2, ... to stay apart.
    for (const auto& o : f->outputs()) {
      const std::string base = o.node()->layer ? o.node()->layer->name() : o.node()->input_name;
      std::string name = base;
      for (int k = 1; std::find(names.begin(), names.end(), name) != names.end(); ++k) name = base + "_" + std::to_string(k);
      names.push_back(name);
    }
  } else {
    names.push_back(net_->name());
  }
  return names;
}

void Model::compile(CompileOptions o) {
  if (auto* graph = dynamic_cast<nn::Functional*>(net_.get()); graph && !graph->built()) graph->build({});
  const std::size_t outputs = num_outputs();
  if (!o.losses.empty() && o.losses.size() != outputs)
    fail<ValueError>("compile expects one loss per output: the model has ", outputs, " output(s), got ", o.losses.size(),
                     " losses");
  if (!o.loss_weights.empty() && o.loss_weights.size() != outputs)
    fail<ValueError>("compile expects one loss weight per output: the model has ", outputs, " output(s), got ",
                     o.loss_weights.size(), " weights");
  for (double w : o.loss_weights)
    if (!std::isfinite(w) || w < 0) fail<ValueError>("compile expects finite loss weights >= 0, got ", w);
  std::vector<losses::Loss> chosen;
  for (std::size_t i = 0; i < outputs; ++i) chosen.push_back(losses::loss_by_name(o.losses.empty() ? o.loss : o.losses[i]));
  std::vector<std::vector<std::string>> resolved(outputs);
  for (std::size_t i = 0; i < outputs; ++i)
    for (const auto& m : o.metrics) resolved[i].push_back(resolve_metric(m, chosen[i].name));
  losses_ = std::move(chosen);
  loss_weights_ = o.loss_weights.empty() ? std::vector<double>(outputs, 1.0) : o.loss_weights;
  resolved_ = std::move(resolved);
  output_log_names_ = output_names();  // fixed with the graph: not rebuilt for every batch's logs
  metrics_ = o.metrics;
  optimizer_ = o.optimizer ? o.optimizer : std::shared_ptr<optim::Optimizer>(optim::make_optimizer(o.optimizer_name));
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

std::vector<Tensor> Model::forward_for_loss(const std::vector<Tensor>& xs, std::vector<bool>& from_logits) {
  AutocastScope autocast(autocast_);
  auto* seq = dynamic_cast<nn::Sequential*>(net_.get());
  const losses::Loss& loss = losses_.front();
  std::vector<Tensor> outs;
  from_logits.assign(losses_.size(), false);
  auto* graph = dynamic_cast<nn::Functional*>(net_.get());
  bool fuse_any = false;
  if (graph)
    for (std::size_t i = 0; i < losses_.size(); ++i) {
      from_logits[i] = !losses_[i].fuses_with.empty() && graph->output_activation(i) == losses_[i].fuses_with;
      fuse_any = fuse_any || from_logits[i];
    }
  if (seq && !loss.fuses_with.empty() && seq->final_activation() == loss.fuses_with) {
    from_logits[0] = true;
    outs.push_back(seq->forward_logits(xs[0]));
  } else if (fuse_any) {
    outs = graph->call_logits({.inputs = xs}, from_logits).tensors;
  } else if (xs.size() == 1 && losses_.size() == 1) {
    outs.push_back((*net_)(xs[0]));
  } else {
    outs = net_->call({.inputs = xs}).tensors;
  }
  // Under autocast the last layer may hand back bf16; the loss and the metrics take f32.
  for (std::size_t i = 0; i < outs.size(); ++i)
    if (outs[i].dtype() == DType::bf16 && xs[0].dtype() != DType::bf16) outs[i] = outs[i].to(DType::f32);
  return outs;
}

std::string Model::log_key(std::size_t output, const std::string& what) const {
  if (losses_.size() == 1) return what;
  return output_log_names_.at(output) + "_" + what;
}

void Model::add_batch_figures(Logs& sums, const std::vector<Tensor>& ys, const std::vector<Tensor>& outs,
                              const std::vector<bool>& from_logits, const std::vector<double>& output_losses) {
  const auto n = static_cast<double>(ys[0].shape()[0]);
  NoGradGuard no_grad;
  for (std::size_t i = 0; i < outs.size(); ++i) {
    if (losses_.size() > 1) sums[log_key(i, "loss")] += output_losses[i] * n;
    const Tensor probs = from_logits[i] ? nn::activate(losses_[i].fuses_with, outs[i]) : outs[i];
    for (std::size_t m = 0; m < metrics_.size(); ++m)
      sums[log_key(i, metrics_[m])] += metric_hits(resolved_[i][m], ys[i], probs);
  }
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

// One tensor per input and per output, each with the same number of samples (at least one).
void check_lists(const std::vector<Tensor>& x, const std::vector<Tensor>& y, std::size_t inputs, std::size_t outputs,
                 const char* what) {
  if (x.size() != inputs || y.size() != outputs)
    fail<ValueError>(what, " expects one tensor per input and per output: the model has ", inputs, " input(s) and ",
                     outputs, " output(s), got ", x.size(), " and ", y.size());
  for (std::size_t i = 0; i < x.size(); ++i) check_xy(x[i], y[0], what);
  for (std::size_t i = 1; i < y.size(); ++i) check_xy(x[0], y[i], what);
}

std::vector<Tensor> rows(const std::vector<Tensor>& ts, std::int64_t begin, std::int64_t end) {
  std::vector<Tensor> out;
  for (const Tensor& t : ts) out.push_back(t.slice(0, begin, end));
  return out;
}

std::vector<Tensor> to_device(const std::vector<Tensor>& ts, Device device) {
  std::vector<Tensor> out;
  for (const Tensor& t : ts) out.push_back(t.to(device));
  return out;
}

}  // namespace

namespace detail {

// The batches of fit and evaluate: a DataLoader over (x, y) itself when there
// is one of each (prefetched, augmented), else over the sample indices, whose
// rows are gathered from every tensor.
class Batches {
 public:
  Batches(const std::vector<Tensor>& x, const std::vector<Tensor>& y, data::LoaderOptions o)
      : indexed_(x.size() != 1 || y.size() != 1), x_(to_device(x, Device::cpu())), y_(to_device(y, Device::cpu())),
        loader_(indexed_ ? arange(static_cast<double>(x_[0].shape()[0]), DType::i64) : x_[0],
                indexed_ ? Tensor() : y_[0], o) {}
  data::DataLoader& loader() { return loader_; }
  // The next batch's inputs and targets, on the host.
  std::optional<std::pair<std::vector<Tensor>, std::vector<Tensor>>> next() {
    std::optional<data::Batch> b = loader_.next();
    if (!b) return std::nullopt;
    if (!indexed_) return std::make_pair(std::vector<Tensor>{b->x}, std::vector<Tensor>{b->y});
    std::pair<std::vector<Tensor>, std::vector<Tensor>> out;
    for (const Tensor& t : x_) out.first.push_back(index_select(t, 0, b->x));
    for (const Tensor& t : y_) out.second.push_back(index_select(t, 0, b->x));
    return out;
  }

 private:
  bool indexed_;
  std::vector<Tensor> x_, y_;
  data::DataLoader loader_;
};

}  // namespace detail

std::string Interruption::describe() const {
  return reason + " in epoch " + std::to_string(epoch + 1) + " of " + std::to_string(epochs) + ", after " +
         std::to_string(batches) + " of " + std::to_string(steps) + " batches";
}

void Model::interrupt(std::string reason) {
  interrupt_reason_ = reason.empty() ? "interrupted" : std::move(reason);
  stop_training = true;
}

Logs Model::run_epoch(detail::Batches& batches, std::int64_t steps, const std::vector<std::shared_ptr<Callback>>& cbs,
                      std::int64_t& done) {
  Logs sums;
  std::int64_t seen = 0, queued = 0;
  done = 0;
  net_->train();
  // A step's results, read back (loss, metrics, callbacks) by finish().
  struct Step {
    Tensor total;
    std::vector<Tensor> ys, outs, output_losses;
    std::vector<bool> from_logits;
  };
  auto finish = [&](const Step& s) {
    const std::int64_t n = s.ys[0].shape()[0];
    seen += n;
    sums["loss"] += s.total.item() * static_cast<double>(n);
    std::vector<double> output_losses;
    for (const Tensor& l : s.output_losses) output_losses.push_back(l.item());
    add_batch_figures(sums, s.ys, s.outs, s.from_logits, output_losses);
    Logs batch_logs;
    for (const auto& [k, v] : sums) batch_logs[k] = v / static_cast<double>(seen);
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
  while (queued < steps) {
    auto batch = batches.next();
    if (!batch) break;
    if (profiler::enabled())
      profiler::add("data", std::chrono::duration<double>(std::chrono::steady_clock::now() - mark).count());
    profiler::Scope step_scope("step");
    Step s;
    Tensor total;
    {
      profiler::Scope scope("forward + loss");
      const std::vector<Tensor> xs = to_device(batch->first, device());  // the loader makes CPU batches
      s.ys = to_device(batch->second, device());
      s.outs = forward_for_loss(xs, s.from_logits);
      for (std::size_t i = 0; i < s.outs.size(); ++i) {
        Tensor loss = losses::compute(losses_[i], s.ys[i], s.outs[i], s.from_logits[i]);
        if (losses_.size() > 1) s.output_losses.push_back(loss.detach());
        Tensor term = loss_weights_[i] == 1.0 ? loss : loss * loss_weights_[i];
        total = total.defined() ? total + term : term;
      }
      Tensor reg = net_->regularization_loss();
      if (reg.defined()) total = total + reg;
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
    for (Tensor& o : s.outs) o = o.detach();
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
  for (auto& [k, v] : sums) logs[k] = seen ? v / static_cast<double>(seen) : NAN;
  return logs;
}

History Model::fit(const Tensor& x, const Tensor& y, FitOptions o) {
  check_xy(x, y, "fit");
  return fit_lists({x}, {y}, std::move(o));
}

History Model::fit(const std::vector<Tensor>& x, const std::vector<Tensor>& y, FitOptions o) {
  return fit_lists(x, y, std::move(o));
}

History Model::fit_lists(std::vector<Tensor> x, std::vector<Tensor> y, FitOptions o) {
  if (!compiled()) optimizer();  // throws the "not compiled" error
  check_lists(x, y, num_inputs(), num_outputs(), "fit");
  const bool single = x.size() == 1 && y.size() == 1;
  if (!single && (o.augment || !o.report_dir.empty()))
    fail<ValueError>("fit's augment and report_dir take a model with one input and one output; this one has ", x.size(),
                     " and ", y.size());
  if (o.validation_data && o.validation_lists)
    fail<ValueError>("fit takes validation_data or validation_lists, not both");
  if (o.batch_size < 1) fail<ValueError>("fit expects batch_size >= 1, got ", o.batch_size);
  if (o.epochs < 0 || o.initial_epoch < 0)
    fail<ValueError>("fit expects epochs >= 0 and initial_epoch >= 0, got epochs ", o.epochs, " and initial_epoch ",
                     o.initial_epoch);
  set_precision(o.precision, "fit");
  if (!(o.validation_split >= 0.0 && o.validation_split < 1.0))
    fail<ValueError>("fit expects validation_split in [0, 1), got ", o.validation_split);
  std::optional<std::pair<std::vector<Tensor>, std::vector<Tensor>>> val = o.validation_lists;
  if (o.validation_data) val = std::make_pair(std::vector<Tensor>{o.validation_data->first},
                                              std::vector<Tensor>{o.validation_data->second});
  if (o.validation_split > 0.0 && !val) {
    std::int64_t n = x[0].shape()[0], n_val = static_cast<std::int64_t>(n * o.validation_split);
    if (n_val == 0 || n_val == n)  // Keras refuses a split that leaves either side empty
      fail<ValueError>("fit's validation_split ", o.validation_split, " of ", n, " samples leaves ", n - n_val,
                       " for training and ", n_val, " for validation; each needs at least one");
    val = std::make_pair(rows(x, n - n_val, n), rows(y, n - n_val, n));
    x = rows(x, 0, n - n_val);
    y = rows(y, 0, n - n_val);
  }
  if (val) check_lists(val->first, val->second, num_inputs(), num_outputs(), "fit's validation data");
  net_->build(x[0].shape());
  if (optimizer_->params().empty()) optimizer_->set_params(net_->parameters());
  if (!o.resume_from.empty()) {
    load_weights(o.resume_from);
    o.initial_epoch = epoch_;
  }
  detail::Batches batches(x, y, {.batch_size = o.batch_size, .shuffle = o.shuffle, .seed = o.seed,
                                 .prefetch = single ? 2 : 0, .transform = o.augment});
  std::int64_t steps = batches.loader().num_batches();
  if (o.max_steps > 0) steps = std::min(steps, o.max_steps);

  std::vector<std::shared_ptr<Callback>> cbs;
  std::vector<std::pair<std::string, std::string>> settings;  // the run's record (report_dir)
  if (o.verbose > 0) cbs.push_back(std::make_shared<ProgressBar>(o.verbose, o.epochs, steps));
  for (auto& cb : o.callbacks) cbs.push_back(cb);
  if (!o.report_dir.empty()) {
    settings = start_run_record(o, x[0], val ? val->first[0].shape()[0] : 0);
    cbs.push_back(std::make_shared<CSVLogger>(o.report_dir + "/history.csv", o.initial_epoch > 0));
  }
  History history;
  stop_training = false;
  interrupt_reason_.clear();
  for (auto& cb : cbs) cb->on_train_begin(*this);
  for (int e = o.initial_epoch; e < o.epochs && !stop_training; ++e) {
    for (auto& cb : cbs) cb->on_epoch_begin(*this, e);
    batches.loader().set_epoch(e);
    std::int64_t done = 0;
    Logs logs = run_epoch(batches, steps, cbs, done);
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
      write_report(o.report_dir, *this, whole, val->first[0], val->second[0], settings, o.report);
    else
      write_report(o.report_dir, *this, whole, x[0], y[0], settings, o.report);
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
                {"loss", loss_name()},
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
  return evaluate(std::vector<Tensor>{x}, std::vector<Tensor>{y}, std::move(o));
}

Logs Model::evaluate(const std::vector<Tensor>& x, const std::vector<Tensor>& y, EvaluateOptions o) {
  if (!compiled()) optimizer();
  check_lists(x, y, num_inputs(), num_outputs(), "evaluate");
  set_precision(o.precision, "evaluate");
  NoGradGuard no_grad;
  bool was_training = net_->is_training();
  net_->eval();
  detail::Batches batches(x, y, {.batch_size = o.batch_size, .shuffle = false, .prefetch = 0});
  Logs sums;
  std::int64_t seen = 0, done = 0;
  while (o.max_steps <= 0 || done < o.max_steps) {
    auto batch = batches.next();
    if (!batch) break;
    const std::vector<Tensor> xs = to_device(batch->first, device()), ys = to_device(batch->second, device());
    std::vector<bool> from_logits;
    const std::vector<Tensor> outs = forward_for_loss(xs, from_logits);
    const std::int64_t n = xs[0].shape()[0];
    seen += n;
    double total = 0;
    std::vector<double> output_losses;
    for (std::size_t i = 0; i < outs.size(); ++i) {
      output_losses.push_back(losses::compute(losses_[i], ys[i], outs[i], from_logits[i]).item());
      total += loss_weights_[i] * output_losses.back();
    }
    sums["loss"] += total * static_cast<double>(n);
    add_batch_figures(sums, ys, outs, from_logits, output_losses);
    ++done;
  }
  net_->train(was_training);
  Logs logs;
  for (auto& [k, v] : sums) logs[k] = seen ? v / static_cast<double>(seen) : NAN;
  if (o.verbose > 0) {
    for (auto& [k, v] : logs) std::printf("%s: %.4f  ", k.c_str(), v);
    std::printf("\n");
  }
  return logs;
}

Tensor Model::predict(const Tensor& x, std::int64_t batch_size) {
  if (!x.defined() || x.dim() < 1) fail<ValueError>("predict expects a batch of inputs");
  std::vector<Tensor> out = predict(std::vector<Tensor>{x}, batch_size);
  if (out.size() != 1)
    fail<ValueError>("predict(x) gives one tensor; this model has ", out.size(),
                     " outputs: call predict({x, ...}) for all of them");
  return out[0];
}

std::vector<Tensor> Model::predict(const std::vector<Tensor>& x, std::int64_t batch_size) {
  if (x.size() != num_inputs())
    fail<ValueError>("predict expects one tensor per input: the model has ", num_inputs(), " input(s), got ", x.size());
  for (const Tensor& t : x)
    if (!t.defined() || t.dim() < 1 || t.shape()[0] != x[0].shape()[0])
      fail<ValueError>("predict expects batches of inputs with the same number of samples");
  if (batch_size < 1) fail<ValueError>("predict expects batch_size >= 1, got ", batch_size);
  const std::int64_t n = x[0].shape()[0];
  if (n == 0) fail<ValueError>("predict got an empty batch");
  NoGradGuard no_grad;
  bool was_training = net_->is_training();
  net_->eval();
  std::vector<std::vector<Tensor>> parts;
  for (std::int64_t i = 0; i < n; i += std::min(batch_size, n - i)) {
    std::vector<Tensor> xb;
    for (const Tensor& t : x) xb.push_back(t.slice(0, i, i + std::min(batch_size, n - i)).contiguous().to(device()));
    std::vector<Tensor> outs = xb.size() == 1 && num_outputs() == 1 ? std::vector<Tensor>{(*net_)(xb[0])}
                                                                    : net_->call({.inputs = xb}).tensors;
    if (parts.empty()) parts.resize(outs.size());
    for (std::size_t k = 0; k < outs.size(); ++k) parts[k].push_back(outs[k].to(Device::cpu()));
  }
  net_->train(was_training);
  std::vector<Tensor> out;
  for (auto& p : parts) out.push_back(p.size() == 1 ? p[0] : concat(p, 0));
  return out;
}

}  // namespace cortex::train
