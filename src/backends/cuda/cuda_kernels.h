// The CUDA backend's kernels, as installed in its row of the dispatch table
// (contracts in include/cortex/backends/kernels.h).
#pragma once

#include "cortex/core/tensor.h"

namespace cortex::backend::cuda {

// out[...] = value for f32, f64, bf16, i32, i64, u8 and bool; out contiguous or strided.
void fill(Tensor& out, double value);

// dst = src for contiguous tensors of one dtype, host <-> device <-> device.
// Strided and converting copies throw Error for now.
void copy(const Tensor& src, Tensor& dst);

}  // namespace cortex::backend::cuda
