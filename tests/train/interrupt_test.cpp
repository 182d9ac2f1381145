// Stopping fit inside an epoch: Model::interrupt, the signal callback, the
// progress bar's lines, and validation over the whole set when training is capped.
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <functional>

#include "support.h"
#include "support/check.h"

namespace cortex::train {
namespace {

using testing::read_file;
using testing::temp_path;
using testing::tiny_data;
using testing::tiny_model;

// Calls `act` from on_batch_end at batch `at` (1-based), once.
class AtBatch : public Callback {
 public:
  AtBatch(std::int64_t at, std::function<void(Model&)> act) : at_(at), act_(std::move(act)) {}
  void on_batch_end(Model& m, std::int64_t batch, const Logs&) override {
    ++batches;
    if (batch == at_ && !done_) {
      done_ = true;
      act_(m);
    }
  }
  std::int64_t batches = 0;

 private:
  std::int64_t at_;
  std::function<void(Model&)> act_;
  bool done_ = false;
};

TEST(Interrupt, EndsFitAfterTheBatchAndRecordsWhere) {
  auto m = tiny_model(3);
  auto [x, y] = tiny_data(80);  // 10 batches of 8
  auto stop = std::make_shared<AtBatch>(3, [](Model& model) { model.interrupt("test"); });
  History h = m->fit(x, y, {.batch_size = 8, .epochs = 4, .verbose = 0, .callbacks = {stop}});
  EXPECT_EQ(stop->batches, 3);  // no batch after the one that asked
  ASSERT_TRUE(h.interrupted);
  EXPECT_EQ(h.interrupted->reason, "test");
  EXPECT_EQ(h.interrupted->epoch, 0);
  EXPECT_EQ(h.interrupted->batches, 3);
  EXPECT_EQ(h.interrupted->steps, 10);
  EXPECT_EQ(h.interrupted->describe(), "test in epoch 1 of 4, after 3 of 10 batches");
  // Keras: the stopped epoch still ends (its figures over the batches done).
  EXPECT_EQ(h.epochs, std::vector<int>{0});
  EXPECT_EQ(m->epoch(), 1);
  // The next fit starts clean.
  History again = m->fit(x, y, {.batch_size = 8, .epochs = 2, .verbose = 0});
  EXPECT_FALSE(again.interrupted);
  EXPECT_EQ(again.epochs.size(), 2u);
}

TEST(Interrupt, SignalEndsFitAndRestoresTheHandler) {
  auto m = tiny_model(4);
  auto [x, y] = tiny_data(80);
  // A suite started with SIGINT ignored (nohup, a background job) would keep ignoring it: start from the default.
  struct sigaction before = {}, inherited = {};
  before.sa_handler = SIG_DFL;
  sigaction(SIGINT, &before, &inherited);
  auto ctrl_c = std::make_shared<AtBatch>(2, [](Model&) { raise(SIGINT); });
  auto on_signal = std::make_shared<InterruptOnSignal>();
  History h = m->fit(x, y, {.batch_size = 8, .epochs = 3, .verbose = 0, .callbacks = {ctrl_c, on_signal}});
  ASSERT_TRUE(h.interrupted);
  EXPECT_EQ(h.interrupted->reason, "SIGINT");
  EXPECT_EQ(h.interrupted->batches, 2);
  EXPECT_EQ(on_signal->signal(), SIGINT);
  struct sigaction after = {};
  sigaction(SIGINT, nullptr, &after);
  EXPECT_EQ(after.sa_handler, before.sa_handler);  // a second Ctrl-C now does what it did before fit
  sigaction(SIGINT, &inherited, nullptr);
}

TEST(Interrupt, AFitThatThrowsLeavesNoHandlerBehind) {
  auto m = tiny_model(8);
  auto [x, y] = tiny_data(80);
  struct sigaction dfl = {}, inherited = {}, now = {};
  dfl.sa_handler = SIG_DFL;
  sigaction(SIGINT, &dfl, &inherited);
  auto on_signal = std::make_shared<InterruptOnSignal>();
  auto boom = std::make_shared<AtBatch>(1, [](Model&) { fail<ValueError>("boom"); });
  EXPECT_THROW(m->fit(x, y, {.batch_size = 8, .epochs = 1, .verbose = 0, .callbacks = {boom, on_signal}}), ValueError);
  // The same callback in the next fit: a signal still ends it, and afterwards SIGINT does
  // what it did before either fit (not the handler the first fit left in place).
  auto ctrl_c = std::make_shared<AtBatch>(2, [](Model&) { raise(SIGINT); });
  History h = m->fit(x, y, {.batch_size = 8, .epochs = 1, .verbose = 0, .callbacks = {ctrl_c, on_signal}});
  ASSERT_TRUE(h.interrupted);
  sigaction(SIGINT, nullptr, &now);
  EXPECT_EQ(now.sa_handler, SIG_DFL);
  {  // A callback dropped after a throw puts the handler back as it goes.
    auto dropped = std::make_shared<InterruptOnSignal>();
    auto boom2 = std::make_shared<AtBatch>(1, [](Model&) { fail<ValueError>("boom"); });
    EXPECT_THROW(m->fit(x, y, {.batch_size = 8, .epochs = 1, .verbose = 0, .callbacks = {boom2, dropped}}), ValueError);
  }
  sigaction(SIGINT, nullptr, &now);
  EXPECT_EQ(now.sa_handler, SIG_DFL);
  sigaction(SIGINT, &inherited, nullptr);
}

TEST(Interrupt, TheRunsRecordAndReportSayWhereItStopped) {
  auto m = tiny_model(5);
  auto [x, y] = tiny_data(80);
  const std::string dir = temp_path("interrupted_run");
  auto stop = std::make_shared<AtBatch>(4, [](Model& model) { model.interrupt("SIGINT"); });
  m->fit(x, y, {.batch_size = 8, .epochs = 5, .verbose = 0, .validation_split = 0.2, .callbacks = {stop},
                .report_dir = dir});
  Settings s = read_settings(dir);
  auto it = std::find_if(s.begin(), s.end(), [](const auto& kv) { return kv.first == "interrupted"; });
  ASSERT_NE(it, s.end());
  EXPECT_EQ(it->second, "SIGINT in epoch 1 of 5, after 4 of 8 batches");
  const std::string page = read_file(dir + "/report.html");
  EXPECT_NE(page.find("<strong>Interrupted:</strong> SIGINT in epoch 1 of 5, after 4 of 8 batches"), std::string::npos);
  EXPECT_EQ(load_model(dir + "/model.cortex")->epoch(), 1);
}

TEST(Interrupt, ValidationCoversTheWholeSetWhenTrainingIsCapped) {
  auto m = tiny_model(6, 0.0);
  auto [x, y] = tiny_data(64);
  auto [vx, vy] = tiny_data(100, 7);  // 13 batches of 8; a cap of 1 would see 8 samples
  History h = m->fit(x, y, {.batch_size = 8, .epochs = 1, .verbose = 0, .validation_data = std::make_pair(vx, vy),
                            .max_steps = 1});
  Logs whole = m->evaluate(vx, vy, {.batch_size = 8});
  Logs first = m->evaluate(vx.slice(0, 0, 8), vy.slice(0, 0, 8), {.batch_size = 8});
  EXPECT_NEAR(h.history["val_loss"][0], whole["loss"], 1e-6);
  EXPECT_GT(std::abs(whole["loss"] - first["loss"]), 1e-4);  // so the check above could fail
}

// The bar's lines written to a file (not a terminal).
std::string bar_output(double heartbeat, std::int64_t stop_at) {
  const std::string path = temp_path("bar_" + std::to_string(heartbeat) + "_" + std::to_string(stop_at) + ".txt");
  std::FILE* f = std::fopen(path.c_str(), "w");
  auto m = tiny_model(7);
  ProgressBar bar(1, 2, 10, f, heartbeat);
  bar.on_epoch_begin(*m, 0);
  for (std::int64_t b = 1; b <= stop_at; ++b) bar.on_batch_end(*m, b, {{"loss", 1.0 / b}});
  Logs logs{{"loss", 0.5}};
  bar.on_epoch_end(*m, 0, logs);
  std::fclose(f);
  return read_file(path);
}

TEST(ProgressBarLines, NotATerminalGetsALineEveryHeartbeat) {
  // Heartbeat 0: a line after every batch but the last, then the epoch's line.
  const std::string every = bar_output(0, 10);
  EXPECT_NE(every.find(" 1/10 [===>..........................] - ETA:"), std::string::npos) << every;
  EXPECT_NE(every.find(" 9/10 [===========================>..] - ETA:"), std::string::npos) << every;
  EXPECT_NE(every.find("10/10 [==============================] - "), std::string::npos) << every;
  EXPECT_EQ(std::count(every.begin(), every.end(), '\n'), 11);  // "Epoch 1/2", 9 heartbeats, the last line
  // A long heartbeat: only the epoch's two lines.
  const std::string quiet = bar_output(1e9, 10);
  EXPECT_EQ(std::count(quiet.begin(), quiet.end(), '\n'), 2) << quiet;
  // Stopped after 4 of 10 batches: the last line says so.
  const std::string stopped = bar_output(1e9, 4);
  EXPECT_NE(stopped.find(" 4/10 [============>.................] - "), std::string::npos) << stopped;
}

}  // namespace
}  // namespace cortex::train
