// Pooling on NHWC images.
#pragma once

#include <array>
#include <string>

#include "cortex/core/tensor.h"

namespace cortex {

struct Pool2dOptions {
  std::array<std::int64_t, 2> pool_size{2, 2};
  std::array<std::int64_t, 2> strides{0, 0};  // 0: equal to pool_size (Keras's default)
  std::string padding = "valid";              // "valid" or "same"
};

// x: (N, H, W, C) -> (N, OH, OW, C)
Tensor max_pool2d(const Tensor& x, const Pool2dOptions& options = {});
Tensor avg_pool2d(const Tensor& x, const Pool2dOptions& options = {});  // padding excluded from the mean
// x: (N, H, W, C) -> (N, C)
Tensor global_avg_pool2d(const Tensor& x);

}  // namespace cortex
