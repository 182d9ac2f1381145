// Element conversion between dtypes, shared by every host copy kernel.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "cortex/core/dtype.h"

namespace cortex::backend {

// Float to i64, truncating toward zero. NaN gives 0 and out-of-range values
// saturate, so the conversion is defined for every input.
inline std::int64_t float_to_i64(double v) {
  if (std::isnan(v)) return 0;
  if (v >= 0x1p63) return std::numeric_limits<std::int64_t>::max();
  if (v < -0x1p63) return std::numeric_limits<std::int64_t>::min();
  return static_cast<std::int64_t>(v);
}

// One element from type From to type To. bf16 goes through float; bool is
// "nonzero"; float to integer truncates through i64 and then wraps like an
// integer narrowing (so -1.0 -> u8 gives 255, as in PyTorch).
template <typename To, typename From>
To convert(From v) {
  if constexpr (std::is_same_v<From, bf16>) {
    return convert<To>(static_cast<float>(v));
  } else if constexpr (std::is_same_v<To, bf16>) {
    return bf16(static_cast<float>(v));
  } else if constexpr (std::is_same_v<To, bool>) {
    return v != From{0};
  } else if constexpr (std::is_integral_v<To> && std::is_floating_point_v<From>) {
    return static_cast<To>(float_to_i64(static_cast<double>(v)));
  } else {
    return static_cast<To>(v);
  }
}

}  // namespace cortex::backend
