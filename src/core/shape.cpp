// Shape arithmetic and the checks shared by every op.
#include "cortex/core/shape.h"

#include <algorithm>

#include "cortex/core/error.h"

namespace cortex {

std::int64_t numel(const Shape& shape) {
  std::int64_t n = 1;
  bool zero = false;
  for (auto d : shape) {
    if (d == 0) zero = true;  // the other sizes still must not overflow
    else if (__builtin_mul_overflow(n, d, &n))
      fail<ShapeError>("shape ", shape_str(shape), " has more than 2^63 elements (zeros counted as 1)");
  }
  return zero ? 0 : n;
}

std::string shape_str(const Shape& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

Strides contiguous_strides(const Shape& shape) {
  Strides st(shape.size());
  std::int64_t s = 1;
  for (std::size_t i = shape.size(); i-- > 0;) {
    st[i] = s;
    if (__builtin_mul_overflow(s, std::max<std::int64_t>(shape[i], 1), &s))
      fail<ShapeError>("shape ", shape_str(shape), ": its sizes (zeros counted as 1) multiply past 2^63, "
                       "so its strides cannot be held");
  }
  return st;
}

int normalize_axis(std::int64_t axis, std::int64_t rank, const char* what) {
  if (rank == 0)
    fail<IndexError>(what, " expects a tensor of rank >= 1 to take axis ", axis, ", got a rank-0 tensor");
  if (axis < -rank || axis >= rank)
    fail<IndexError>(what, " expects an axis in [", -rank, ", ", rank - 1, "] for a rank-", rank,
                     " tensor, got ", axis);
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* what) {
  std::size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    std::int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1)
      fail<ShapeError>(what, " cannot broadcast shapes ", shape_str(a), " and ", shape_str(b),
                       ": axis ", static_cast<std::int64_t>(i) - static_cast<std::int64_t>(n),
                       " has sizes ", da, " and ", db);
    out[i] = da == 1 ? db : da;
  }
  return out;
}

}  // namespace cortex
