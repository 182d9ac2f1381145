// Thread count for OpenMP loops and oneDNN (which runs on the same OpenMP pool),
// and how the pool's idle threads wait.
#include "cortex/core/threads.h"

#include <fcntl.h>
#include <omp.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "cortex/core/error.h"

namespace cortex {

void set_num_threads(int n) {
  if (n < 1) fail<ValueError>("set_num_threads expects n >= 1, got ", n);
  omp_set_num_threads(n);
}

int num_threads() { return omp_get_max_threads(); }

namespace {

// The runnable tasks, this one included: the R of /proc/loadavg's "R/T" field
// (a short file, unlike /proc/stat); -1 if unreadable.
int runnable_tasks() {
  char buf[256];
  const int fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  const ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  const char* slash = std::strchr(buf, '/');
  if (!slash) return -1;
  const char* p = slash;
  while (p > buf && p[-1] >= '0' && p[-1] <= '9') --p;
  return p == slash ? -1 : std::atoi(p);
}

// The cores this process may run on.
int usable_cpus() {
  cpu_set_t set;
  return sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
}

}  // namespace

std::string adapt_openmp_wait(char** argv) {
  if (const char* chosen = std::getenv("CORTEX_OMP_WAIT")) return chosen;  // chosen before the restart
  if (std::getenv("GOMP_SPINCOUNT") || std::getenv("OMP_WAIT_POLICY")) {
    setenv("CORTEX_OMP_WAIT", "as set in the environment", 1);
    return "as set in the environment";
  }
  // Cores our threads leave free: one other busy task beyond them and a spinning thread costs someone a core.
  const int spare = std::max(0, usable_cpus() - num_threads());
  int others = 0, looks = 0;
  for (; looks < 8; ++looks) {
    const int running = runnable_tasks();
    if (running < 0) break;
    others += running - 1;
    const timespec pause{0, 2'000'000};
    nanosleep(&pause, nullptr);
  }
  // Contended: on average at least 0.75 more runnable tasks than spare cores.
  if (looks < 8 || others * 4 < (spare * 4 + 3) * looks) {
    const char* chosen = "libgomp's default spin (no other busy process at start)";
    setenv("CORTEX_OMP_WAIT", chosen, 1);
    return chosen;
  }
  const char* chosen = "short spin, GOMP_SPINCOUNT=1000 (other processes were busy at start)";
  setenv("GOMP_SPINCOUNT", "1000", 1);
  setenv("CORTEX_OMP_WAIT", chosen, 1);
  if (argv && argv[0]) execv("/proc/self/exe", argv);
  // No restart (no /proc, say): the default stays in force, and the record says so.
  unsetenv("GOMP_SPINCOUNT");
  setenv("CORTEX_OMP_WAIT", "libgomp's default spin (the restart for a short spin failed)", 1);
  return std::getenv("CORTEX_OMP_WAIT");
}

}  // namespace cortex
