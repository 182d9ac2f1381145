// The one thread pool (OpenMP's): how many threads kernels may use.
#pragma once

namespace cortex {

void set_num_threads(int n);  // n >= 1
int num_threads();

}  // namespace cortex
