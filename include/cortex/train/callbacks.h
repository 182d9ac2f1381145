// Callbacks: hooks into fit() (Keras's names and behaviour).
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cortex/nn/module.h"

namespace cortex::train {

class Model;
using Logs = std::map<std::string, double>;  // "loss", "accuracy", "val_loss", ...

class Callback {
 public:
  virtual ~Callback() = default;
  virtual void on_train_begin(Model&) {}
  virtual void on_epoch_begin(Model&, int epoch) {}
  virtual void on_batch_end(Model&, std::int64_t batch, const Logs& logs) {}
  virtual void on_epoch_end(Model&, int epoch, Logs& logs) {}
  virtual void on_train_end(Model&) {}
};

// Keras's progress bar: verbose 1 redraws it in place on a terminal and, when
// `out` is not a terminal (a log file, a pipe), prints it as a line at least
// every `heartbeat_seconds` during an epoch; verbose 2 prints one line per
// epoch. An epoch's last line shows the batches done (fewer when stopped).
class ProgressBar : public Callback {
 public:
  ProgressBar(int verbose, int epochs, std::int64_t steps, std::FILE* out = stdout, double heartbeat_seconds = 10);
  void on_epoch_begin(Model&, int epoch) override;
  void on_batch_end(Model&, std::int64_t batch, const Logs& logs) override;
  void on_epoch_end(Model&, int epoch, Logs& logs) override;

 private:
  std::string line(std::int64_t done, const Logs& logs, double seconds, bool final) const;
  int verbose_, epochs_;
  std::int64_t steps_;
  std::FILE* out_;
  bool tty_;
  double heartbeat_;
  double start_ = 0, last_line_ = 0;
  std::int64_t done_ = 0;
};

// Ctrl-C (SIGINT) or SIGTERM during fit: the batch under way finishes, then
// Model::interrupt ends fit as a batch callback would ("SIGINT"), so the caller
// can save what was learned; a second signal ends the process at once, as it
// would without this callback. The handlers are set from on_train_begin to
// on_train_end; signal() is the number of the signal that came (0: none).
// A signal handler can only set a flag that is global to the process, so one
// fit at a time should carry this callback.
class InterruptOnSignal : public Callback {
 public:
  ~InterruptOnSignal() override;  // puts the handlers back if fit threw before on_train_end
  void on_train_begin(Model&) override;
  void on_batch_end(Model& model, std::int64_t batch, const Logs& logs) override;
  void on_epoch_end(Model& model, int epoch, Logs& logs) override;
  void on_train_end(Model&) override;
  int signal() const { return signal_; }

 private:
  void check(Model& model);
  void restore();
  int signal_ = 0;
};

struct EarlyStoppingOptions {
  std::string monitor = "val_loss";
  double min_delta = 0.0;
  int patience = 0;
  std::string mode = "auto";  // "min", "max", or "auto" (max for accuracy-like names)
  bool restore_best_weights = false;
};

class EarlyStopping : public Callback {
 public:
  explicit EarlyStopping(EarlyStoppingOptions o = {});
  void on_train_begin(Model&) override;
  void on_epoch_end(Model& model, int epoch, Logs& logs) override;
  void on_train_end(Model& model) override;
  int stopped_epoch() const { return stopped_epoch_; }
  int best_epoch() const { return best_epoch_; }

 private:
  EarlyStoppingOptions o_;
  bool maximize_ = false;
  double best_ = 0;
  int wait_ = 0, stopped_epoch_ = -1, best_epoch_ = -1;
  nn::NamedTensors best_weights_;
};

struct ModelCheckpointOptions {
  std::string filepath = "model.cortex";  // "{epoch}" is replaced by the epoch number (1-based)
  std::string monitor = "val_loss";
  bool save_best_only = false;
  std::string mode = "auto";
};

// Saves the model (weights, optimizer and training state) atomically after epochs.
class ModelCheckpoint : public Callback {
 public:
  explicit ModelCheckpoint(ModelCheckpointOptions o = {});
  void on_train_begin(Model&) override;
  void on_epoch_end(Model& model, int epoch, Logs& logs) override;
  int saves() const { return saves_; }

 private:
  ModelCheckpointOptions o_;
  bool maximize_ = false;
  double best_ = 0;
  bool have_best_ = false;
  int saves_ = 0;
};

struct ReduceLROnPlateauOptions {
  std::string monitor = "val_loss";
  double factor = 0.1;
  int patience = 10;
  std::string mode = "auto";
  double min_delta = 1e-4;
  int cooldown = 0;
  double min_lr = 0.0;
};

class ReduceLROnPlateau : public Callback {
 public:
  explicit ReduceLROnPlateau(ReduceLROnPlateauOptions o = {});
  void on_train_begin(Model&) override;
  void on_epoch_end(Model& model, int epoch, Logs& logs) override;

 private:
  ReduceLROnPlateauOptions o_;
  bool maximize_ = false;
  double best_ = 0;
  int wait_ = 0, cooldown_left_ = 0;
};

// Sets the learning rate at each epoch's start: schedule(epoch, current rate).
class LearningRateScheduler : public Callback {
 public:
  explicit LearningRateScheduler(std::function<double(int, double)> schedule);
  void on_epoch_begin(Model& model, int epoch) override;
  void on_epoch_end(Model& model, int epoch, Logs& logs) override;

 private:
  std::function<double(int, double)> schedule_;
};

// One CSV row per epoch (epoch, then the logs in name order). With append, rows go
// after the file's own, whose columns they must match.
class CSVLogger : public Callback {
 public:
  explicit CSVLogger(std::string path, bool append = false);
  void on_train_begin(Model&) override;
  void on_epoch_end(Model&, int epoch, Logs& logs) override;

 private:
  std::string path_;
  bool append_;
  std::string header_;  // the file's first line once it has one ("epoch,loss,...")
};

// Stops training as soon as a batch's loss is NaN or infinite.
class TerminateOnNaN : public Callback {
 public:
  void on_batch_end(Model& model, std::int64_t batch, const Logs& logs) override;
  bool terminated() const { return terminated_; }

 private:
  bool terminated_ = false;
};

}  // namespace cortex::train
