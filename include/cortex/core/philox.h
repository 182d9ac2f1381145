// Philox4x32-10 (Salmon et al., 2011), the block function behind every random
// draw: four 32-bit words for a (key, counter) pair. One definition for the
// host (Generator, the dropout-mask kernels) and CUDA device code, so a draw is
// the same number wherever it is made.
#pragma once

#include <cstdint>

#ifdef __CUDACC__
#define CORTEX_HOST_DEVICE __host__ __device__
#else
#define CORTEX_HOST_DEVICE
#endif

namespace cortex {

CORTEX_HOST_DEVICE inline void philox4x32_10(std::uint64_t key, std::uint64_t counter, std::uint32_t out[4]) {
  std::uint32_t x0 = static_cast<std::uint32_t>(counter), x1 = static_cast<std::uint32_t>(counter >> 32);
  std::uint32_t x2 = 0, x3 = 0;
  std::uint32_t k0 = static_cast<std::uint32_t>(key), k1 = static_cast<std::uint32_t>(key >> 32);
  for (int round = 0; round < 10; ++round) {
    const std::uint64_t p0 = 0xD2511F53ull * x0, p1 = 0xCD9E8D57ull * x2;
    const std::uint32_t y0 = static_cast<std::uint32_t>(p1 >> 32) ^ x1 ^ k0;
    const std::uint32_t y1 = static_cast<std::uint32_t>(p1);
    const std::uint32_t y2 = static_cast<std::uint32_t>(p0 >> 32) ^ x3 ^ k1;
    const std::uint32_t y3 = static_cast<std::uint32_t>(p0);
    x0 = y0;
    x1 = y1;
    x2 = y2;
    x3 = y3;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  out[0] = x0;
  out[1] = x1;
  out[2] = x2;
  out[3] = x3;
}

}  // namespace cortex
