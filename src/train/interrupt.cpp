// InterruptOnSignal: Ctrl-C (or SIGTERM) ends fit after the batch under way,
// so that the caller can save what was learned.
#include <signal.h>
#include <unistd.h>

#include <cstdio>

#include "cortex/train/callbacks.h"
#include "cortex/train/model.h"

namespace cortex::train {
namespace {

constexpr int kSignals[] = {SIGINT, SIGTERM};

// What a handler may touch: the signal that came, and the actions it replaced.
volatile sig_atomic_t g_signal = 0;
struct sigaction g_previous[2];
bool g_installed[2] = {false, false};

int slot(int sig) { return sig == SIGINT ? 0 : 1; }

extern "C" void on_signal(int sig) {
  g_signal = sig;
  sigaction(sig, &g_previous[slot(sig)], nullptr);  // a second signal does what it did before fit
}

const char* signal_name(int sig) { return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal"; }

}  // namespace

void InterruptOnSignal::on_train_begin(Model&) {
  g_signal = 0;
  signal_ = 0;
  for (int sig : kSignals) {
    struct sigaction action = {}, previous = {};
    sigaction(sig, nullptr, &previous);
    // A process started with the signal ignored (nohup, a background job) keeps ignoring it.
    if (previous.sa_handler == SIG_IGN) continue;
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    g_previous[slot(sig)] = previous;
    g_installed[slot(sig)] = sigaction(sig, &action, nullptr) == 0;
  }
}

void InterruptOnSignal::check(Model& model) {
  if (signal_ != 0 || g_signal == 0) return;
  signal_ = g_signal;
  // On a terminal the ^C sits in the middle of the progress bar: start a fresh line.
  std::fprintf(stderr, "%sInterrupted (%s): training ends with this batch; %s again quits at once\n",
               isatty(STDERR_FILENO) ? "\n" : "", signal_name(signal_), signal_ == SIGINT ? "Ctrl-C" : "the signal");
  model.interrupt(signal_name(signal_));
}

void InterruptOnSignal::on_batch_end(Model& model, std::int64_t, const Logs&) { check(model); }

void InterruptOnSignal::on_epoch_end(Model& model, int, Logs&) { check(model); }

void InterruptOnSignal::on_train_end(Model&) {
  for (int sig : kSignals) {
    if (!g_installed[slot(sig)]) continue;
    struct sigaction current = {};
    sigaction(sig, nullptr, &current);
    if (current.sa_handler == on_signal) sigaction(sig, &g_previous[slot(sig)], nullptr);
    g_installed[slot(sig)] = false;
  }
}

}  // namespace cortex::train
