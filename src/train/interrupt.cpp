// InterruptOnSignal: Ctrl-C (or SIGTERM) ends fit after the batch under way,
// so that the caller can save what was learned.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>

#include "cortex/train/callbacks.h"
#include "cortex/train/model.h"

namespace cortex::train {
namespace {

constexpr int kSignals[] = {SIGINT, SIGTERM};

// What a handler may touch: the signal that came (a lock-free atomic: the signal
// may land on a loader or OpenMP thread), and the actions it replaced.
std::atomic<int> g_signal{0};
static_assert(std::atomic<int>::is_always_lock_free);
struct sigaction g_previous[2];
bool g_installed[2] = {false, false};

int slot(int sig) { return sig == SIGINT ? 0 : 1; }

extern "C" void on_signal(int sig) {
  g_signal.store(sig, std::memory_order_relaxed);
  sigaction(sig, &g_previous[slot(sig)], nullptr);  // a second signal does what it did before fit
}

const char* signal_name(int sig) { return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal"; }

}  // namespace

InterruptOnSignal::~InterruptOnSignal() { restore(); }

void InterruptOnSignal::on_train_begin(Model&) {
  g_signal = 0;
  signal_ = 0;
  for (int sig : kSignals) {
    struct sigaction action = {}, current = {};
    sigaction(sig, nullptr, &current);
    // A process started with the signal ignored (nohup, a background job) keeps ignoring it.
    if (current.sa_handler == SIG_IGN) continue;
    // Ours may still be in place when a fit threw before on_train_end: what it replaced stays saved.
    if (current.sa_handler != on_signal) g_previous[slot(sig)] = current;
    action.sa_handler = on_signal;
    action.sa_flags = SA_RESTART;  // reads and writes under way go on rather than fail with EINTR
    sigemptyset(&action.sa_mask);
    g_installed[slot(sig)] = sigaction(sig, &action, nullptr) == 0;
  }
}

void InterruptOnSignal::check(Model& model) {
  const int sig = g_signal.load(std::memory_order_relaxed);
  if (signal_ != 0 || sig == 0) return;
  signal_ = sig;
  // On a terminal the ^C sits in the middle of the progress bar: start a fresh line.
  std::fprintf(stderr, "%sInterrupted (%s): training ends with this batch; %s again quits at once\n",
               isatty(STDERR_FILENO) ? "\n" : "", signal_name(signal_), signal_ == SIGINT ? "Ctrl-C" : "the signal");
  model.interrupt(signal_name(signal_));
}

void InterruptOnSignal::on_batch_end(Model& model, std::int64_t, const Logs&) { check(model); }

void InterruptOnSignal::on_epoch_end(Model& model, int, Logs&) { check(model); }

void InterruptOnSignal::on_train_end(Model&) { restore(); }

void InterruptOnSignal::restore() {
  for (int sig : kSignals) {
    if (!g_installed[slot(sig)]) continue;
    struct sigaction current = {};
    sigaction(sig, nullptr, &current);
    if (current.sa_handler == on_signal) sigaction(sig, &g_previous[slot(sig)], nullptr);
    g_installed[slot(sig)] = false;
  }
}

}  // namespace cortex::train
