// Callbacks fed with chosen logs, so each behaviour is pinned down exactly.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>

#include "support.h"
#include "support/check.h"
#include "support/fifo.h"

namespace cortex::train {
namespace {

using testing::temp_path;
using testing::tiny_data;
using testing::tiny_model;

Tensor first_kernel(Model& m) { return m.network().named_parameters()[0].second.clone().detach(); }

void perturb(Model& m, double value) {
  NoGradGuard no_grad;
  m.network().named_parameters()[0].second.fill_(value);
}

TEST(EarlyStopping, StopsAfterPatienceAndRestoresTheBestWeights) {
  auto m = tiny_model();
  m->network().build({1, 4});
  EarlyStopping es({.monitor = "val_loss", .patience = 2, .restore_best_weights = true});
  es.on_train_begin(*m);
  Logs logs{{"val_loss", 1.0}};
  es.on_epoch_end(*m, 0, logs);  // best so far
  Tensor best = first_kernel(*m);
  perturb(*m, 7.0);
  logs = {{"val_loss", 2.0}};
  es.on_epoch_end(*m, 1, logs);  // 1 epoch without improvement of the 2 allowed
  EXPECT_FALSE(m->stop_training);
  logs = {{"val_loss", 3.0}};
  es.on_epoch_end(*m, 2, logs);  // 2: stop (Keras: wait >= patience)
  EXPECT_TRUE(m->stop_training);
  EXPECT_EQ(es.stopped_epoch(), 2);
  EXPECT_EQ(es.best_epoch(), 0);
  es.on_train_end(*m);
  EXPECT_EQ(first_kernel(*m).to_vector<float>(), best.to_vector<float>());
}

TEST(EarlyStopping, MaximisesAccuracyAndHonoursMinDelta) {
  auto m = tiny_model();
  EarlyStopping es({.monitor = "val_accuracy", .min_delta = 0.01, .patience = 0});
  es.on_train_begin(*m);
  Logs logs{{"val_accuracy", 0.50}};
  es.on_epoch_end(*m, 0, logs);
  logs = {{"val_accuracy", 0.505}};  // better, but by less than min_delta
  es.on_epoch_end(*m, 1, logs);
  EXPECT_TRUE(m->stop_training);
  Logs missing{{"loss", 1.0}};
  EarlyStopping wrong({.monitor = "val_los"});
  wrong.on_train_begin(*m);
  EXPECT_THROW(wrong.on_epoch_end(*m, 0, missing), ValueError);
}

TEST(EarlyStopping, EndsFitEarly) {
  auto m = tiny_model();
  auto [x, y] = tiny_data(64);
  auto es = std::make_shared<EarlyStopping>(EarlyStoppingOptions{.monitor = "loss", .min_delta = 100.0, .patience = 2});
  History h = m->fit(x, y, {.batch_size = 16, .epochs = 10, .verbose = 0, .callbacks = {es}});
  EXPECT_EQ(h.epochs.size(), 3u);  // epoch 0 sets the best, 1 and 2 wait, then stop
}

TEST(ModelCheckpoint, SaveBestOnlyKeepsTheBestEpochsWeights) {
  auto m = tiny_model();
  m->network().build({1, 4});
  m->optimizer().set_params(m->network().parameters());
  std::string path = temp_path("best.cortex");
  ModelCheckpoint ck({.filepath = path, .monitor = "val_loss", .save_best_only = true});
  ck.on_train_begin(*m);
  Logs logs{{"loss", 1.0}, {"val_loss", 0.5}};
  ck.on_epoch_end(*m, 0, logs);
  Tensor best = first_kernel(*m);
  perturb(*m, 3.0);
  logs = {{"loss", 1.0}, {"val_loss", 0.9}};  // worse: file untouched
  ck.on_epoch_end(*m, 1, logs);
  EXPECT_EQ(ck.saves(), 1);
  auto back = tiny_model();
  back->load_weights(path);
  EXPECT_EQ(first_kernel(*back).to_vector<float>(), best.to_vector<float>());
  logs = {{"loss", NAN}, {"val_loss", 0.1}};  // a NaN epoch never replaces a good file
  ck.on_epoch_end(*m, 2, logs);
  EXPECT_EQ(ck.saves(), 1);
}

TEST(ReduceLROnPlateau, CutsTheRateAfterPatienceThenCoolsDown) {
  auto m = tiny_model();
  m->network().build({1, 4});
  m->optimizer().set_params(m->network().parameters());
  m->optimizer().set_learning_rate(0.1);
  ReduceLROnPlateau r({.monitor = "val_loss", .factor = 0.5, .patience = 2, .cooldown = 1, .min_lr = 0.02});
  r.on_train_begin(*m);
  double losses[] = {1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0};
  // Keras: cut when `patience` epochs pass without improvement; a cooldown epoch
  // resets the wait and does not count, then counting resumes.
  double expected[] = {0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.02};
  for (int e = 0; e < 7; ++e) {
    Logs logs{{"val_loss", losses[e]}};
    r.on_epoch_end(*m, e, logs);
    EXPECT_NEAR(m->optimizer().learning_rate(), expected[e], 1e-12) << "after epoch " << e;
  }
  for (int e = 7; e < 12; ++e) {
    Logs logs{{"val_loss", 1.0}};
    r.on_epoch_end(*m, e, logs);
  }
  EXPECT_NEAR(m->optimizer().learning_rate(), 0.02, 1e-12);  // never below min_lr
}

TEST(Callbacks, CsvLoggerAndSchedulerAndTerminateOnNaN) {
  auto m = tiny_model();
  auto [x, y] = tiny_data(32);
  std::string csv = temp_path("log.csv");
  auto logger = std::make_shared<CSVLogger>(csv);
  auto sched = std::make_shared<LearningRateScheduler>([](int epoch, double lr) { return 0.01 / (epoch + 1); });
  m->fit(x, y, {.batch_size = 8, .epochs = 2, .verbose = 0, .callbacks = {sched, logger}});
  std::ifstream in(csv);
  std::string header, row0, row1;
  std::getline(in, header);
  std::getline(in, row0);
  std::getline(in, row1);
  EXPECT_EQ(header, "epoch,accuracy,learning_rate,loss");
  EXPECT_EQ(row1.substr(0, 2), "1,");
  EXPECT_NEAR(m->optimizer().learning_rate(), 0.005, 1e-12);
  TerminateOnNaN t;
  t.on_batch_end(*m, 3, {{"loss", INFINITY}});
  EXPECT_TRUE(t.terminated());
  EXPECT_TRUE(m->stop_training);
}

TEST(Callbacks, LogsAndSettingsAreReadOnlyFromRegularFiles) {
  const std::string fifo = temp_path("log_fifo.csv");
  std::remove(fifo.c_str());
  const std::string error = cortex::testing::error_reading_fifo(fifo, [](const std::string& p) { read_csv_log(p); });
  EXPECT_NE(error.find("cannot read the training log " + fifo + ": a FIFO, not a regular file"), std::string::npos)
      << error;
  std::remove(fifo.c_str());
  EXPECT_THROW(read_csv_log(temp_path("missing.csv")), Error);
}

TEST(Callbacks, CsvLoggerAppendsOnlyRowsOfTheFilesColumns) {
  auto m = tiny_model();
  auto [x, y] = tiny_data(16);
  const std::string csv = temp_path("append.csv");
  m->fit(x, y, {.batch_size = 8, .epochs = 1, .verbose = 0, .callbacks = {std::make_shared<CSVLogger>(csv)}});
  // The same columns append; a run that adds validation would write rows of 5 fields
  // under a header of 3 and leave a log that no reader takes.
  m->fit(x, y, {.batch_size = 8, .epochs = 2, .verbose = 0,
                .callbacks = {std::make_shared<CSVLogger>(csv, true)}, .initial_epoch = 1});
  const std::string before = [&] {
    std::ifstream in(csv);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();
  EXPECT_EQ(before.substr(0, before.find('\n')), "epoch,accuracy,loss");
  EXPECT_EQ(std::count(before.begin(), before.end(), '\n'), 3);
  try {
    m->fit(x, y, {.batch_size = 8, .epochs = 3, .verbose = 0, .validation_split = 0.25,
                  .callbacks = {std::make_shared<CSVLogger>(csv, true)}, .initial_epoch = 2});
    ADD_FAILURE() << "appended rows of other columns";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("'epoch,accuracy,loss'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("val_loss"), std::string::npos) << e.what();
  }
  std::ifstream in(csv);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), before);
}

}  // namespace
}  // namespace cortex::train
