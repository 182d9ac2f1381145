// The Generator's draws from the Philox block function (cortex/core/philox.h).
#include "cortex/core/generator.h"

#include "cortex/core/philox.h"

namespace cortex {

std::array<std::uint32_t, 4> Generator::block(std::uint64_t c) const {
  std::array<std::uint32_t, 4> out;
  philox4x32_10(seed_, c, out.data());
  return out;
}

double Generator::next_uniform() { return uniform01(block(reserve(1))[0]); }

std::uint64_t Generator::next_below(std::uint64_t n) {
  auto b = block(reserve(1));
  std::uint64_t r = (static_cast<std::uint64_t>(b[0]) << 32) | b[1];
  return n == 0 ? 0 : r % n;
}

}  // namespace cortex
