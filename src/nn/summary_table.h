// What Sequential's and Functional's summary tables share (private to nn/).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace cortex::nn::detail {

// 1199882 -> "1,199,882"
inline std::string with_commas(std::int64_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// s padded with spaces to `width` (one space after it when it is longer).
inline std::string pad(const std::string& s, std::size_t width) {
  return s.size() >= width ? s + " " : s + std::string(width - s.size(), ' ');
}

// Keras's name for the next layer called `base`: base, base_1, base_2, ... whichever is free.
inline std::string unique_name(const std::string& base, const std::function<bool(const std::string&)>& taken) {
  std::string name = base;
  for (int n = 1; taken(name); ++n) name = base + "_" + std::to_string(n);
  return name;
}

}  // namespace cortex::nn::detail
