// Philox4x32-10 (Salmon et al., 2011): the block function behind every random draw.
#include "cortex/core/generator.h"

namespace cortex {

std::array<std::uint32_t, 4> Generator::block(std::uint64_t c) const {
  std::uint32_t x0 = static_cast<std::uint32_t>(c), x1 = static_cast<std::uint32_t>(c >> 32);
  std::uint32_t x2 = 0, x3 = 0;
  std::uint32_t k0 = static_cast<std::uint32_t>(seed_), k1 = static_cast<std::uint32_t>(seed_ >> 32);
  for (int round = 0; round < 10; ++round) {
    std::uint64_t p0 = 0xD2511F53ull * x0, p1 = 0xCD9E8D57ull * x2;
    std::uint32_t y0 = static_cast<std::uint32_t>(p1 >> 32) ^ x1 ^ k0;
    std::uint32_t y1 = static_cast<std::uint32_t>(p1);
    std::uint32_t y2 = static_cast<std::uint32_t>(p0 >> 32) ^ x3 ^ k1;
    std::uint32_t y3 = static_cast<std::uint32_t>(p0);
    x0 = y0; x1 = y1; x2 = y2; x3 = y3;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return {x0, x1, x2, x3};
}

double Generator::next_uniform() { return uniform01(block(reserve(1))[0]); }

std::uint64_t Generator::next_below(std::uint64_t n) {
  auto b = block(reserve(1));
  std::uint64_t r = (static_cast<std::uint64_t>(b[0]) << 32) | b[1];
  return n == 0 ? 0 : r % n;
}

}  // namespace cortex
