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
// As check_floating, also accepting bf16: the ops that autocast's activations
// pass through (matmul, conv, element-wise, reductions, pooling, dropout);
// whether a backend computes in bf16 is its kernel's to say.
void check_floating_or_bf16(const Tensor& t, const char* op);
// Autocast (cortex/ops/autocast.h), PyTorch's policy:
//  - autocasts(t): an AutocastScope is alive and t is an f32 CUDA tensor. Matmul,
//    linear and the convolutions then run on bf16 copies (to_bf16) of their
//    operands and return bf16;
//  - softmax and log_softmax take bf16 inputs in f32 under autocast (to_f32);
//    the losses and batch_norm always do;
//  - the rest run in their input's dtype, and mixed bf16/f32 operands of an
//    element-wise op meet in f32 (type promotion, as PyTorch's).
bool autocasts(const Tensor& t);
// Autocast applies to a product or convolution: autocasts() holds for one of
// its operands and every defined operand is f32 or bf16 (other dtypes go on to
// the op's own checks, whose error then names the dtypes the caller passed).
bool autocast_applies(std::initializer_list<const Tensor*> operands);
Tensor to_bf16_if_autocast(const Tensor& t);  // t.to(bf16) when autocasts(t); else t (undefined stays so)
Tensor to_f32_if_autocast(const Tensor& t);   // t.to(f32) when autocast is on and t is bf16; else t
Tensor to_f32_if_bf16(const Tensor& t);       // t.to(f32) when t is bf16 (the losses, batch_norm); else t
void check_same_dtype(const Tensor& a, const Tensor& b, const char* op);
void check_same_device(const Tensor& a, const Tensor& b, const char* op);
void check_rank(const Tensor& t, std::int64_t rank, const char* op, const char* what);
// A value that full / fill_ can store in dtype: anything for floating dtypes and
// bool (nonzero is true); for integers a finite value whose truncation fits.
void check_fill_value(double value, DType dtype, const char* op);

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
