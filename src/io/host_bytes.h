// Private to io: the row-major bytes of a CPU tensor, for the writers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cortex/core/tensor.h"

namespace cortex::io {

// Throws a DeviceError naming `what` unless t is defined and on the CPU.
void check_host(const Tensor& t, const std::string& what);

// Throws unless image_u8 is a non-empty (H, W, C) u8 CPU image with C = 1, 3 or 4.
void check_image(const Tensor& image_u8, const char* what);

// t's elements in row-major order: its own memory when contiguous, else a copy into
// `scratch` made by walking its strides (io needs only core, not the ops layer).
const std::uint8_t* host_bytes(const Tensor& t, std::vector<std::uint8_t>& scratch, const std::string& what);

}  // namespace cortex::io
