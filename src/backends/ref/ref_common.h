// Small helpers shared by the reference kernels: dtype dispatch, argument
// checks, an element-wise walk over strided operands and an indexed view.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "backends/common/strided.h"
#include "cortex/core/error.h"
#include "cortex/core/tensor.h"

namespace cortex::backend::ref {

// Calls f(T{}) with T = float or double; any other dtype throws DTypeError
// naming the kernel: "ref unary relu supports f32 and f64, got i32".
template <typename F>
decltype(auto) visit_float(DType t, std::string_view what, F&& f) {
  switch (t) {
    case DType::f32: return f(float{});
    case DType::f64: return f(double{});
    default: break;
  }
  fail<DTypeError>("ref ", what, " supports f32 and f64, got ", dtype_name(t));
}

inline void expect_dtype(const Tensor& t, DType want, std::string_view what, std::string_view arg) {
  if (t.dtype() != want)
    fail<DTypeError>("ref ", what, " expects ", arg, " of dtype ", dtype_name(want), ", got ",
                     dtype_name(t.dtype()));
}

inline void expect_shape(const Tensor& t, const Shape& want, std::string_view what, std::string_view arg) {
  if (t.shape() != want)
    fail<ShapeError>("ref ", what, " expects ", arg, " of shape ", shape_str(want), ", got ",
                     shape_str(t.shape()));
}

inline void expect_rank(const Tensor& t, std::int64_t rank, std::string_view what, std::string_view arg) {
  if (t.dim() != rank)
    fail<ShapeError>("ref ", what, " expects a rank-", rank, " ", arg, ", got shape ",
                     shape_str(t.shape()));
}

// Calls fn(offsets) once per element of `shape`, in row-major order;
// offsets[k] is operand k's element offset from its storage base (see
// storage_ptr). Every operand must have `shape`.
template <std::size_t N, typename Fn>
void for_each_element(const Shape& shape, const std::array<const Tensor*, N>& ops, Fn&& fn) {
  if (numel(shape) == 0) return;
  const StridedLoop<N> loop = make_loop<N>(shape, ops);
  std::array<std::int64_t, N> inner;
  for (std::size_t k = 0; k < N; ++k) inner[k] = loop.strides[k].back();
  loop.for_rows(0, loop.rows(), [&](const std::array<std::int64_t, N>& row, std::int64_t len) {
    std::array<std::int64_t, N> off = row;
    for (std::int64_t i = 0; i < len; ++i) {
      fn(off);
      for (std::size_t k = 0; k < N; ++k) off[k] += inner[k];
    }
  });
}

// Rank-R indexed access to a strided tensor of C++ type T (const T for an
// input): v(n, h, w, c). Checks the dtype and rank once, at construction.
template <typename T, std::size_t R>
class View {
 public:
  View(const Tensor& t, std::string_view what, std::string_view arg) {
    using Element = std::remove_const_t<T>;
    expect_dtype(t, dtype_of<Element>(), what, arg);
    expect_rank(t, static_cast<std::int64_t>(R), what, arg);
    data_ = t.data<Element>();
    for (std::size_t d = 0; d < R; ++d) {
      shape_[d] = t.shape()[d];
      stride_[d] = t.strides()[d];
    }
  }

  std::int64_t size(std::size_t d) const { return shape_[d]; }

  template <typename... I>
  T& operator()(I... index) const {
    static_assert(sizeof...(I) == R, "one index per axis");
    std::int64_t at = 0;
    std::size_t d = 0;
    ((at += static_cast<std::int64_t>(index) * stride_[d++]), ...);
    return data_[at];
  }

 private:
  T* data_ = nullptr;
  std::array<std::int64_t, R> shape_{};
  std::array<std::int64_t, R> stride_{};
};

}  // namespace cortex::backend::ref
