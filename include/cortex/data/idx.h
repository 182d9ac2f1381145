// The IDX file format of MNIST-style datasets (yann.lecun.com/exdb/mnist), gzip-compressed or raw.
#pragma once

#include <string>

#include "cortex/core/tensor.h"

namespace cortex::data {

// Reads an IDX file, .gz or uncompressed (detected from the content, not the
// name). Element types map to: u8 -> u8; i8, i16, i32 -> i32; f32 -> f32;
// f64 -> f64. The tensor has the file's dims, e.g. (60000, 28, 28) u8.
// Throws cortex::Error naming the file for a missing file, a truncated or
// corrupt gzip stream, a bad magic number, absurd dims, or data whose length
// does not match the dims.
Tensor read_idx(const std::string& path);

}  // namespace cortex::data
