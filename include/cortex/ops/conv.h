// 2-D convolution and transposed convolution on NHWC images with HWIO kernels.
#pragma once

#include <array>
#include <string>

#include "cortex/core/tensor.h"

namespace cortex {

struct Conv2dOptions {
  std::array<std::int64_t, 2> strides{1, 1};
  // "valid", "same" (TensorFlow's split: the extra row/column goes bottom/right),
  // or "explicit" with `pads`.
  std::string padding = "valid";
  std::array<std::int64_t, 4> pads{0, 0, 0, 0};  // top, bottom, left, right
  std::array<std::int64_t, 2> dilation{1, 1};
  std::int64_t groups = 1;
  // Transposed convolution only: extra rows/columns at the bottom/right of the output.
  std::array<std::int64_t, 2> output_padding{0, 0};
  // conv2d only: relu(conv2d(...)) as one op: the relu runs in place on the
  // output, which alone is kept for the gradient (masked where it is 0), so the
  // pre-activation is neither a tensor of its own nor saved; NaN stays NaN.
  // Conv2D(activation = "relu") uses it.
  bool relu = false;
};

// x: (N, H, W, C), w: (KH, KW, C / groups, O), bias: (O) or undefined -> (N, OH, OW, O)
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias = Tensor(),
              const Conv2dOptions& options = {});

// The gradient of conv2d with respect to its input, as a layer (Keras's
// Conv2DTranspose). x: (N, H, W, C), w: (KH, KW, O / groups, C), bias: (O)
// -> (N, OH, OW, O) with OH = (H - 1) * stride + dilated kernel - pads + output_padding
// ("same": OH = H * stride).
Tensor conv_transpose2d(const Tensor& x, const Tensor& w, const Tensor& bias = Tensor(),
                        const Conv2dOptions& options = {});

}  // namespace cortex
