// The callbacks' behaviour, Keras's semantics.
#include "cortex/train/callbacks.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cortex/autograd/grad_mode.h"
#include "cortex/io/open_file.h"
#include "cortex/train/model.h"

namespace cortex::train {
namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Keras's "auto": maximise accuracy-like quantities, minimise the rest.
bool maximizes(const std::string& mode, const std::string& monitor, const char* who) {
  if (mode == "max") return true;
  if (mode == "min") return false;
  if (mode != "auto") fail<ValueError>(who, " expects mode \"auto\", \"min\" or \"max\", got \"", mode, "\"");
  return monitor.find("acc") != std::string::npos || monitor.find("auc") != std::string::npos;
}

double monitored(const Logs& logs, const std::string& monitor, const char* who) {
  auto it = logs.find(monitor);
  if (it == logs.end()) {
    std::string have;
    for (auto& [k, v] : logs) have += (have.empty() ? "" : ", ") + k;
    fail<ValueError>(who, " monitors '", monitor, "', which fit does not log; available: ", have);
  }
  return it->second;
}

bool improved(double value, double best, double min_delta, bool maximize) {
  return maximize ? value > best + min_delta : value < best - min_delta;
}

}  // namespace

ProgressBar::ProgressBar(int verbose, int epochs, std::int64_t steps, std::FILE* out, double heartbeat_seconds)
    : verbose_(verbose), epochs_(epochs), steps_(steps), out_(out), tty_(isatty(fileno(out)) != 0),
      heartbeat_(heartbeat_seconds) {}

void ProgressBar::on_epoch_begin(Model&, int epoch) {
  start_ = last_line_ = now_seconds();
  done_ = 0;
  std::fprintf(out_, "Epoch %d/%d\n", epoch + 1, epochs_);
  std::fflush(out_);
}

std::string ProgressBar::line(std::int64_t done, const Logs& logs, double seconds, bool final) const {
  std::string digits = std::to_string(steps_);
  std::string s = std::to_string(done);
  s = std::string(digits.size() - std::min(digits.size(), s.size()), ' ') + s + "/" + digits + " [";
  int width = 30, filled = steps_ > 0 ? static_cast<int>(width * done / steps_) : width;
  for (int i = 0; i < width; ++i) s += i < filled ? '=' : (i == filled && done < steps_ ? '>' : '.');
  char buf[96];
  double per_step = done > 0 ? seconds / static_cast<double>(done) : 0;
  if (final) std::snprintf(buf, sizeof buf, "] - %.0fs %.0fms/step", seconds, per_step * 1e3);
  else std::snprintf(buf, sizeof buf, "] - ETA: %.0fs", per_step * static_cast<double>(steps_ - done));
  s += buf;
  // Keras's order: loss, the metrics, then the validation figures.
  auto put = [&](const std::string& k, double v) {
    std::snprintf(buf, sizeof buf, " - %s: %.4f", k.c_str(), v);
    s += buf;
  };
  for (bool val : {false, true}) {
    std::string loss = val ? "val_loss" : "loss";
    if (logs.count(loss)) put(loss, logs.at(loss));
    for (const auto& [k, v] : logs)
      if (k != loss && (k.rfind("val_", 0) == 0) == val) put(k, v);
  }
  return s;
}

void ProgressBar::on_batch_end(Model&, std::int64_t batch, const Logs& logs) {
  done_ = batch;
  if (verbose_ != 1) return;
  const double now = now_seconds();
  if (tty_) {
    std::fprintf(out_, "\r%s\033[K", line(batch, logs, now - start_, false).c_str());
  } else if (now - last_line_ >= heartbeat_ && batch < steps_) {  // a log shows the run is alive
    std::fprintf(out_, "%s\n", line(batch, logs, now - start_, false).c_str());
    last_line_ = now;
  } else {
    return;
  }
  std::fflush(out_);
}

void ProgressBar::on_epoch_end(Model&, int epoch, Logs& logs) {
  std::string l = line(done_, logs, now_seconds() - start_, true);
  std::fprintf(out_, verbose_ == 1 && tty_ ? "\r%s\033[K\n" : "%s\n", l.c_str());
  std::fflush(out_);
}

EarlyStopping::EarlyStopping(EarlyStoppingOptions o) : o_(std::move(o)) {
  if (o_.patience < 0) fail<ValueError>("EarlyStopping expects patience >= 0, got ", o_.patience);
  maximize_ = maximizes(o_.mode, o_.monitor, "EarlyStopping");
}

void EarlyStopping::on_train_begin(Model&) {
  wait_ = 0;
  stopped_epoch_ = best_epoch_ = -1;
  best_ = maximize_ ? -INFINITY : INFINITY;
  best_weights_.clear();
}

void EarlyStopping::on_epoch_end(Model& model, int epoch, Logs& logs) {
  double v = monitored(logs, o_.monitor, "EarlyStopping");
  if (improved(v, best_, o_.min_delta, maximize_) || best_epoch_ < 0) {
    best_ = v;
    best_epoch_ = epoch;
    wait_ = 0;
    if (o_.restore_best_weights) {
      best_weights_.clear();
      for (auto& [n, t] : model.network().state_dict()) best_weights_.emplace_back(n, t.clone().detach());
    }
    return;
  }
  if (++wait_ >= o_.patience) {  // Keras: stop once `patience` epochs passed without improvement
    stopped_epoch_ = epoch;
    model.stop_training = true;
  }
}

void EarlyStopping::on_train_end(Model& model) {
  if (o_.restore_best_weights && !best_weights_.empty() && stopped_epoch_ >= 0)
    model.network().load_state_dict(best_weights_);
}

ModelCheckpoint::ModelCheckpoint(ModelCheckpointOptions o) : o_(std::move(o)) {
  if (o_.filepath.empty()) fail<ValueError>("ModelCheckpoint expects a file path");
  maximize_ = maximizes(o_.mode, o_.monitor, "ModelCheckpoint");
}

void ModelCheckpoint::on_train_begin(Model&) { have_best_ = false; }

void ModelCheckpoint::on_epoch_end(Model& model, int epoch, Logs& logs) {
  auto loss = logs.find("loss");
  if (loss != logs.end() && !std::isfinite(loss->second)) return;  // never overwrite a good file with NaN weights
  if (o_.save_best_only) {
    double v = monitored(logs, o_.monitor, "ModelCheckpoint");
    if (std::isnan(v) || (have_best_ && !improved(v, best_, 0.0, maximize_))) return;
    best_ = v;
    have_best_ = true;
  }
  std::string path = o_.filepath;
  auto at = path.find("{epoch}");
  if (at != std::string::npos) path.replace(at, 7, std::to_string(epoch + 1));
  model.save(path);
  ++saves_;
}

ReduceLROnPlateau::ReduceLROnPlateau(ReduceLROnPlateauOptions o) : o_(std::move(o)) {
  if (!(o_.factor > 0.0 && o_.factor < 1.0))
    fail<ValueError>("ReduceLROnPlateau expects a factor in (0, 1), got ", o_.factor);
  maximize_ = maximizes(o_.mode, o_.monitor, "ReduceLROnPlateau");
}

void ReduceLROnPlateau::on_train_begin(Model&) {
  best_ = maximize_ ? -INFINITY : INFINITY;
  wait_ = cooldown_left_ = 0;
}

void ReduceLROnPlateau::on_epoch_end(Model& model, int epoch, Logs& logs) {
  double v = monitored(logs, o_.monitor, "ReduceLROnPlateau");
  logs["learning_rate"] = model.optimizer().learning_rate();
  if (cooldown_left_ > 0) {
    --cooldown_left_;
    wait_ = 0;
  }
  if (improved(v, best_, o_.min_delta, maximize_)) {
    best_ = v;
    wait_ = 0;
    return;
  }
  if (cooldown_left_ > 0 || ++wait_ < o_.patience) return;
  double lr = model.optimizer().learning_rate();
  if (lr > o_.min_lr) {
    model.optimizer().set_learning_rate(std::max(lr * o_.factor, o_.min_lr));
    cooldown_left_ = o_.cooldown;
    wait_ = 0;
  }
}

LearningRateScheduler::LearningRateScheduler(std::function<double(int, double)> schedule)
    : schedule_(std::move(schedule)) {
  if (!schedule_) fail<ValueError>("LearningRateScheduler expects a schedule function");
}

void LearningRateScheduler::on_epoch_begin(Model& model, int epoch) {
  double lr = schedule_(epoch, model.optimizer().learning_rate());
  if (!(lr >= 0.0) || !std::isfinite(lr))
    fail<ValueError>("LearningRateScheduler: the schedule gave ", lr, " for epoch ", epoch, "; expected a rate >= 0");
  model.optimizer().set_learning_rate(lr);
}

void LearningRateScheduler::on_epoch_end(Model& model, int, Logs& logs) {
  logs["learning_rate"] = model.optimizer().learning_rate();
}

CSVLogger::CSVLogger(std::string path, bool append) : path_(std::move(path)), append_(append) {}

void CSVLogger::on_train_begin(Model&) {
  header_.clear();
  if (append_) {
    std::string text, why;  // a missing or empty file has no header yet
    if (std::filesystem::exists(path_) && !io::read_regular_file(path_, &text, &why))
      fail<Error>("CSVLogger cannot read ", path_, " to append to it: ", why);
    header_ = text.substr(0, text.find('\n'));
    if (!header_.empty() && header_.back() == '\r') header_.pop_back();  // written on Windows
    return;
  }
  std::ofstream out(path_, std::ios::trunc);
  if (!out) fail<Error>("CSVLogger cannot write ", path_);
}

void CSVLogger::on_epoch_end(Model&, int epoch, Logs& logs) {
  std::string header = "epoch";
  for (auto& [k, v] : logs) header += "," + k;
  // Appending rows of other columns (a resumed run with other metrics or validation)
  // would leave a log that no reader can take.
  if (!header_.empty() && header_ != header)
    fail<ValueError>("CSVLogger cannot append to ", path_, ": its columns are '", header_, "', this run logs '",
                     header, "' (resume with the same metrics and validation, or log to a new file)");
  std::string text = header_.empty() ? header + "\n" : "";
  text += std::to_string(epoch);
  char buf[64];
  for (auto& [k, v] : logs) {
    std::snprintf(buf, sizeof buf, "%.17g", v);
    text += ',';
    text += buf;
  }
  text += '\n';
  std::ofstream out(path_, std::ios::app);
  if (!out) fail<Error>("CSVLogger cannot write ", path_);
  out << text;
  out.flush();
  if (!out) fail<Error>("CSVLogger could not write a row of ", text.size(), " bytes to ", path_);
  header_ = header;
}

void TerminateOnNaN::on_batch_end(Model& model, std::int64_t batch, const Logs& logs) {
  auto it = logs.find("loss");
  if (it != logs.end() && !std::isfinite(it->second)) {
    std::fprintf(stderr, "Batch %lld: invalid loss, terminating training\n", static_cast<long long>(batch));
    terminated_ = true;
    model.stop_training = true;
  }
}

}  // namespace cortex::train

namespace cortex::train {

History read_csv_log(const std::string& path) {
  std::string text, why;
  if (!std::filesystem::exists(path)) fail<Error>("cannot read the training log ", path, ": no such file");
  if (!io::read_regular_file(path, &text, &why)) fail<Error>("cannot read the training log ", path, ": ", why);
  std::istringstream in(text);
  auto split = [](const std::string& line) {
    std::vector<std::string> fields;
    std::size_t start = 0;
    for (std::size_t comma; (comma = line.find(',', start)) != std::string::npos; start = comma + 1)
      fields.push_back(line.substr(start, comma - start));
    fields.push_back(line.substr(start));
    return fields;
  };
  std::string line;
  auto next_line = [&](std::string& out) {
    if (!std::getline(in, out)) return false;
    if (!out.empty() && out.back() == '\r') out.pop_back();  // written on Windows
    return true;
  };
  if (!next_line(line)) fail<Error>(path, ": empty file, expected a CSVLogger header 'epoch,...'");
  const std::vector<std::string> header = split(line);
  if (header.front() != "epoch") fail<Error>(path, ":1: expected a header starting with 'epoch', found '", line, "'");
  History h;
  for (std::size_t i = 1; i < header.size(); ++i) h.history[header[i]];
  for (int number = 2; next_line(line); ++number) {
    if (line.empty()) continue;
    const std::vector<std::string> fields = split(line);
    if (fields.size() != header.size())
      fail<Error>(path, ":", number, ": expected ", header.size(), " fields, found ", fields.size());
    std::vector<double> values;
    for (const auto& f : fields) {
      char* end = nullptr;
      const double v = std::strtod(f.c_str(), &end);
      if (f.empty() || *end != '\0') fail<Error>(path, ":", number, ": '", f, "' is not a number");
      values.push_back(v);
    }
    if (!(values[0] >= 0 && values[0] <= 1e9) || values[0] != std::floor(values[0]))
      fail<Error>(path, ":", number, ": the epoch must be a whole number >= 0, found ", fields[0]);
    h.epochs.push_back(static_cast<int>(values[0]));
    for (std::size_t i = 1; i < header.size(); ++i) h.history[header[i]].push_back(values[i]);
  }
  return h;
}

}  // namespace cortex::train
