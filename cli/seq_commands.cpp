// `cortex seq`: the lecture's sequence tasks. addition: Keras's addition_rnn.
#include <cstdio>
#include <cstdlib>

#include "args.h"
#include "common.h"
#include "cortex/core/threads.h"
#include "cortex/seq/seq.h"

namespace cortex::cli {
namespace {

struct AdditionArgs {
  std::int64_t samples = 50000, batch_size = 32, max_steps = 0;
  double clipnorm = 1.0;  // global gradient norm cap (0: none)
  int digits = 3, epochs = 30, verbose = 1, threads = 0, examples = 5;
  std::uint64_t seed = 0;
  bool no_reverse = false;
  std::string output = "addition.cortex";
};

// After each epoch: the validation accuracies and a few answers, as Keras's example prints them.
class AdditionReport : public train::Callback {
 public:
  AdditionReport(const seq::AdditionData& val, std::int64_t first, int examples)
      : val_(val), first_(first), examples_(examples) {}
  void on_epoch_end(train::Model& model, int epoch, train::Logs& logs) override {
    Tensor p = model.predict(val_x(), 256);
    exact = seq::exact_match(val_y(), p);
    logs["val_exact_match"] = exact;
    std::printf("Epoch %d: validation per-character accuracy %.4f, exact match %.4f\n", epoch + 1,
                logs.count("val_accuracy") ? logs["val_accuracy"] : 0.0, exact);
    for (int i = 0; i < examples_ && i < p.shape()[0]; ++i) {
      const std::string guess = seq::decode(p.select(0, i)), truth = seq::decode(val_y().select(0, i));
      std::printf("  %-9s = %-5s %s %s\n", val_.questions[first_ + i].c_str(), guess.c_str(),
                  guess == truth ? "ok " : "no ", guess == truth ? "" : truth.c_str());
    }
    std::fflush(stdout);
  }
  double exact = 0;

 private:
  Tensor val_x() const { return val_.x.slice(0, first_, val_.x.shape()[0]); }
  Tensor val_y() const { return val_.y.slice(0, first_, val_.y.shape()[0]); }
  const seq::AdditionData& val_;
  std::int64_t first_;
  int examples_;
};

int addition_command(const AdditionArgs& a) {
  if (a.threads > 0) set_num_threads(a.threads);
  seq::AdditionData d = seq::addition_data({.samples = a.samples, .digits = a.digits, .reverse = !a.no_reverse, .seed = a.seed});
  const std::int64_t n = d.x.shape()[0], n_val = n / 10, n_train = n - n_val;  // Keras: the last 10% validate
  const std::int64_t q_len = d.x.shape()[1], a_len = d.y.shape()[1], chars = d.x.shape()[2];
  train::Sequential model({nn::Input({q_len, chars}), nn::LSTM({.units = 128}), nn::RepeatVector(a_len),
                           nn::LSTM({.units = 128, .return_sequences = true}),
                           nn::TimeDistributed(nn::Dense({.units = chars, .activation = "softmax"}))},
                          a.seed);
  optim::AdamOptions adam;
  if (a.clipnorm > 0) adam.global_clipnorm = a.clipnorm;
  model.compile({.loss = "categorical_crossentropy", .optimizer = std::make_shared<optim::Adam>(adam),
                 .metrics = {"accuracy"}});
  if (a.verbose > 0) std::printf("%s", model.summary().c_str());
  std::printf("Questions: %lld for training, %lld for validation (%d digits%s)\n", static_cast<long long>(n_train),
              static_cast<long long>(n_val), a.digits, a.no_reverse ? "" : ", fed reversed");
  auto report = std::make_shared<AdditionReport>(d, n_train, a.examples);
  auto on_signal = std::make_shared<train::InterruptOnSignal>();
  train::History h = model.fit(d.x.slice(0, 0, n_train), d.y.slice(0, 0, n_train),
                               {.batch_size = a.batch_size, .epochs = a.epochs, .verbose = a.verbose,
                                .validation_data = std::make_pair(d.x.slice(0, n_train, n), d.y.slice(0, n_train, n)),
                                .callbacks = {on_signal, report}, .seed = a.seed, .max_steps = a.max_steps});
  model.save(a.output);
  std::printf("Saved %s\n", a.output.c_str());
  std::printf("Validation per-character accuracy: %.4f\n", h.history["val_accuracy"].back());
  std::printf("Validation exact match: %.4f\n", report->exact);
  return h.interrupted ? 128 + on_signal->signal() : 0;
}

}  // namespace

void add_seq_commands(CLI::App& app, Runs& runs) {
  auto* seq = app.add_subcommand("seq", "sequence tasks: addition (Keras's addition_rnn)");
  seq->require_subcommand(1);
  auto a = std::make_shared<AdditionArgs>();
  auto* add = seq->add_subcommand("addition", "learn to add: an LSTM encoder-decoder reads \"53+7\", writes \"60\"");
  add->add_option("--samples", a->samples, "distinct questions; the last 10% validate")->check(at_least(10))->capture_default_str();
  add->add_option("--digits", a->digits, "digits per operand")->check(in_range(1, 9, false, true))->capture_default_str();
  add->add_option("--epochs", a->epochs)->check(at_least(1))->capture_default_str();
  add->add_option("--batch-size", a->batch_size)->check(at_least(1))->capture_default_str();
  add->add_option("--max-steps", a->max_steps, "cap the training batches of each epoch")->check(at_least(0));
  add->add_option("--seed", a->seed)->check(at_least(0))->capture_default_str();
  add->add_option("--threads", a->threads, "threads (default: all cores)")->check(at_least(1));
  add->add_option("--examples", a->examples, "answers shown after each epoch")->check(at_least(0))->capture_default_str();
  add->add_option("--clipnorm", a->clipnorm,
                  "cap the global gradient norm (0: none; without it Adam's late steps make the accuracy swing)")
      ->check(at_least(0, false))
      ->capture_default_str();
  add->add_flag("--no-reverse", a->no_reverse, "feed the question in reading order");
  add->add_option("--output", a->output)->capture_default_str();
  add->add_option("--verbose", a->verbose, "0 silent, 1 progress bar, 2 one line per epoch")
      ->check(one_of({"0", "1", "2"}))
      ->capture_default_str();
  add->footer("The last line reads 'Validation exact match: 0.xxxx'.");
  runs[add] = [a] { return addition_command(*a); };
}

}  // namespace cortex::cli
