// Error types: every message says what was expected and what was found.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace cortex {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Wrong shape or rank for an op ("matmul expects ... got ...").
class ShapeError : public Error { using Error::Error; };
// Unsupported dtype for an op, or mismatched dtypes.
class DTypeError : public Error { using Error::Error; };
// Axis or element index out of range.
class IndexError : public Error { using Error::Error; };
// A value outside what an op accepts (negative probability, zero stride, ...).
class ValueError : public Error { using Error::Error; };
// Tensors on different devices, or a device that is not available.
class DeviceError : public Error { using Error::Error; };
// Misuse of autograd (backward twice through a freed graph, non-scalar root, ...).
class AutogradError : public Error { using Error::Error; };

namespace detail {
template <typename... Args>
std::string cat(Args&&... args) {
  std::ostringstream out;
  (out << ... << std::forward<Args>(args));
  return out.str();
}
}  // namespace detail

// Throw E with the arguments streamed into one message.
template <typename E = Error, typename... Args>
[[noreturn]] void fail(Args&&... args) {
  throw E(detail::cat(std::forward<Args>(args)...));
}

}  // namespace cortex
