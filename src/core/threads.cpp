// Thread count for OpenMP loops and oneDNN (which runs on the same OpenMP pool).
#include "cortex/core/threads.h"

#include <omp.h>

#include "cortex/core/error.h"

namespace cortex {

void set_num_threads(int n) {
  if (n < 1) fail<ValueError>("set_num_threads expects n >= 1, got ", n);
  omp_set_num_threads(n);
}

int num_threads() { return omp_get_max_threads(); }

}  // namespace cortex
