// Seeded random numbers: Philox4x32-10, counter based, so a fill gives the
// same numbers whatever the thread count and each element's stream is fixed.
#pragma once

#include <array>
#include <cstdint>

namespace cortex {

class Generator {
 public:
  explicit Generator(std::uint64_t seed = 0) : seed_(seed) {}

  std::uint64_t seed() const { return seed_; }
  std::uint64_t offset() const { return offset_; }
  void set_state(std::uint64_t seed, std::uint64_t offset) { seed_ = seed; offset_ = offset; }

  // Reserves `n` blocks of four 32-bit numbers; returns the first block's counter.
  std::uint64_t reserve(std::uint64_t n) { std::uint64_t o = offset_; offset_ += n; return o; }

  // Four independent 32-bit numbers for counter `c` under this seed.
  std::array<std::uint32_t, 4> block(std::uint64_t c) const;

  // Convenience for scalar draws (data shuffling, dropout masks on the host).
  double next_uniform();                     // [0, 1)
  std::uint64_t next_below(std::uint64_t n);  // [0, n)

 private:
  std::uint64_t seed_;
  std::uint64_t offset_ = 0;
};

// Maps 32 random bits to a float/double in [0, 1).
inline double uniform01(std::uint32_t bits) { return (bits >> 8) * (1.0 / 16777216.0); }

}  // namespace cortex
