// Helpers shared by the op files: argument checks, kernel calls on raw
// (unrecorded) views, and the one place that reduces broadcast gradients.
#pragma once

#include <string>
#include <vector>

#include "cortex/autograd/node.h"
#include "cortex/backends/kernels.h"
#include "cortex/core/tensor.h"
#include "cortex/ops/reduce.h"

namespace cortex {
using backend::Kernels;
}

namespace cortex::detail {

// Kernel lookup for the backend owning `device`.
template <typename Fn>
Fn kernel(Fn Kernels::*cell, Device device, const char* op) {
  return backend::dispatch(cell, device, op);
}

void check_defined(const Tensor& t, const char* op, const char* arg);
void check_floating(const Tensor& t, const char* op);
// As check_floating, also accepting bf16 (matmul and conv take it, for autocast).
void check_floating_or_bf16(const Tensor& t, const char* op);
// True when an AutocastScope is alive and t is an f32 CUDA tensor: the op then
// runs on bf16 copies of its operands and returns f32.
bool autocasts(const Tensor& t);
void check_same_dtype(const Tensor& a, const Tensor& b, const char* op);
void check_same_device(const Tensor& a, const Tensor& b, const char* op);
void check_rank(const Tensor& t, std::int64_t rank, const char* op, const char* what);

// A contiguous tensor of `shape` on `device` (installs the device's backend first).
Tensor alloc(const Shape& shape, DType dtype, Device device);

// A contiguous copy made with the copy kernel, or `t` itself if already contiguous
// with offset 0. Unrecorded: for feeding kernels.
Tensor contiguous_raw(const Tensor& t);

// The view of `t` expanded to `shape` (stride 0 on broadcast axes); unrecorded.
Tensor expand_raw(const Tensor& t, const Shape& shape);

// Sums a gradient over the axes that broadcasting added or stretched, so it
// has `shape` again. The one place broadcast gradients are reduced.
Tensor sum_to(const Tensor& grad, const Shape& shape);

// A 0-d tensor holding `value`, with t's dtype and device.
Tensor scalar_like(double value, const Tensor& t);

// (before, after) padding of one spatial axis for "same" (TensorFlow's split:
// the odd one goes after), so that out = ceil(in / stride).
std::pair<std::int64_t, std::int64_t> same_pads(std::int64_t in, std::int64_t k_eff, std::int64_t stride);

// A contiguous tensor seen as (rows, k): rows = numel / k, also when k or numel is 0.
Tensor as_rows(const Tensor& contiguous, std::int64_t k);

std::vector<std::int64_t> normalize_axes(const std::vector<std::int64_t>& axes, std::int64_t rank,
                                         const char* op);

}  // namespace cortex::detail
