// Walking strided tensors on the host: shared by the ref and cpu backends.
//
// A loop over N operands of one shape is cut into rows along the last axis;
// the caller gets each row's element offsets and the per-operand inner
// strides, so the inner loop is a plain (often unit-stride) loop.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "cortex/core/tensor.h"

namespace cortex::backend {

template <std::size_t N>
struct StridedLoop {
  Shape shape;                      // after merging axes, at least rank 1
  std::array<Strides, N> strides;   // per operand, same rank as shape
  std::array<std::int64_t, N> base;  // element offsets of each operand's start

  std::int64_t row_len() const { return shape.back(); }
  std::int64_t rows() const {
    std::int64_t r = 1;
    for (std::size_t i = 0; i + 1 < shape.size(); ++i) r *= shape[i];
    return r;
  }

  // Calls fn(offsets, len) for rows [row_begin, row_end): offsets[k] is operand
  // k's element offset of the row's first element; inner strides are
  // strides[k].back().
  template <typename Fn>
  void for_rows(std::int64_t row_begin, std::int64_t row_end, Fn&& fn) const {
    if (row_begin >= row_end) return;  // also keeps a zero-size axis out of the % below
    const std::size_t outer = shape.size() - 1;
    std::vector<std::int64_t> idx(outer, 0);
    std::int64_t r = row_begin;
    for (std::size_t d = outer; d-- > 0;) {
      idx[d] = r % shape[d];
      r /= shape[d];
    }
    std::array<std::int64_t, N> off = base;
    for (std::size_t k = 0; k < N; ++k)
      for (std::size_t d = 0; d < outer; ++d) off[k] += idx[d] * strides[k][d];
    for (std::int64_t row = row_begin; row < row_end; ++row) {
      fn(off, row_len());
      for (std::size_t d = outer; d-- > 0;) {  // odometer step
        ++idx[d];
        for (std::size_t k = 0; k < N; ++k) off[k] += strides[k][d];
        if (idx[d] < shape[d]) break;
        for (std::size_t k = 0; k < N; ++k) off[k] -= strides[k][d] * shape[d];
        idx[d] = 0;
      }
    }
  }
};

// Builds the loop for operands that all have `shape`, merging axes that are
// contiguous in every operand and dropping size-1 axes.
template <std::size_t N>
StridedLoop<N> make_loop(const Shape& shape, const std::array<const Tensor*, N>& ops) {
  StridedLoop<N> loop;
  for (std::size_t k = 0; k < N; ++k) loop.base[k] = ops[k]->offset();
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool merge = !loop.shape.empty();
    for (std::size_t k = 0; k < N && merge; ++k)
      merge = loop.strides[k].back() == ops[k]->strides()[d] * shape[d];
    if (merge) {
      loop.shape.back() *= shape[d];
      for (std::size_t k = 0; k < N; ++k) loop.strides[k].back() = ops[k]->strides()[d];
    } else {
      loop.shape.push_back(shape[d]);
      for (std::size_t k = 0; k < N; ++k) loop.strides[k].push_back(ops[k]->strides()[d]);
    }
  }
  if (loop.shape.empty()) {
    loop.shape.push_back(1);
    for (std::size_t k = 0; k < N; ++k) loop.strides[k].push_back(1);
  }
  return loop;
}

// Base pointer of a tensor's storage typed as T (offsets from the loop are
// added to it; the tensor's own offset is already in loop.base).
template <typename T>
T* storage_ptr(const Tensor& t) {
  return static_cast<T*>(t.storage()->data());
}

}  // namespace cortex::backend
