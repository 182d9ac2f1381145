// Shapes, strides and the small helpers every op uses to check them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cortex {

using Shape = std::vector<std::int64_t>;
using Strides = std::vector<std::int64_t>;

std::int64_t numel(const Shape& shape);
std::string shape_str(const Shape& shape);  // "[2, 3]"
Strides contiguous_strides(const Shape& shape);

// Maps a possibly negative axis into [0, rank); `what` names the op in the error.
// A rank-0 tensor has no axes.
int normalize_axis(std::int64_t axis, std::int64_t rank, const char* what);

// numpy broadcasting of two shapes; throws ShapeError naming `what`.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* what);

}  // namespace cortex
