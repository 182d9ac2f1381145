// What viz's error messages say about a tensor argument.
#pragma once

#include <string>

#include "cortex/core/tensor.h"

namespace cortex::viz {

inline std::string shape_or_undefined(const Tensor& t) {
  return t.defined() ? shape_str(t.shape()) : std::string("an undefined tensor");
}

}  // namespace cortex::viz
