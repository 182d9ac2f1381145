// The one thread pool (OpenMP's): how many threads kernels may use, and how
// its idle threads wait.
#pragma once

#include <string>

namespace cortex {

void set_num_threads(int n);  // n >= 1
int num_threads();

// libgomp's threads spin for several milliseconds after their work runs out
// before they sleep: fastest on cores of their own, but beside another busy
// process the spinning takes the core that process, or our other thread,
// needed (the lecture CNN trained 1.5x slower, bench/omp_wait.sh). A short spin
// wins there and loses about 6 % alone, so this looks at the machine once: if
// more tasks are runnable than the cores our threads leave free (8 looks at
// /proc/loadavg over 16 ms), it sets
// GOMP_SPINCOUNT=1000 and restarts the program with execv (libgomp reads its
// settings only when it loads); otherwise it leaves libgomp's default. A
// GOMP_SPINCOUNT or OMP_WAIT_POLICY already set is kept. Call it first thing
// in main(), before any other work; the `cortex` command does for train,
// evaluate and experiment. Returns what was chosen, in words (also left in
// CORTEX_OMP_WAIT for the run's record).
std::string adapt_openmp_wait(char** argv);

}  // namespace cortex
