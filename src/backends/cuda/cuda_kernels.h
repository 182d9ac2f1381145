// The CUDA backend's kernels, as installed in its row of the dispatch table
// (contracts in include/cortex/backends/kernels.h), and the helpers they share.
// Every kernel runs on the stream of its tensors' device (cuda_common.h).
#pragma once

#include <cstdint>

#include "cortex/backends/kernels.h"
#include "cortex/core/tensor.h"

namespace cortex::backend::cuda {

void fill(Tensor& out, double value);
// Any dtypes (converting) and strides; host <-> device <-> device.
void copy(const Tensor& src, Tensor& dst);
void unary(UnaryOp op, const Tensor& x, Tensor& out, const UnaryParams& p);
void unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx, const UnaryParams& p);
void binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out);
void where(const Tensor& cond, const Tensor& a, const Tensor& b, Tensor& out);
void bernoulli(Tensor& out, double p, double scale, std::uint64_t seed, std::uint64_t first_block);
void reduce(ReduceOp op, const Tensor& x, Tensor& out);
void softmax(const Tensor& x, Tensor& out, bool log);
void softmax_backward(const Tensor& y, const Tensor& dy, Tensor& dx, bool log);
void softmax_cross_entropy(const Tensor& logits, const Tensor& targets, Tensor& loss, Tensor* grad);
void matmul(const Tensor& a, const Tensor& b, const Tensor* bias, Tensor& out);
void conv2d(const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& y, const Conv2dParams& p);
void conv2d_backward_data(const Tensor& dy, const Tensor& w, Tensor& dx, const Conv2dParams& p);
void conv2d_backward_weight(const Tensor& x, const Tensor& dy, Tensor& dw, Tensor* db, const Conv2dParams& p);
void pool2d(const Pool2dParams& p, const Tensor& x, Tensor& y, Tensor* workspace);
void pool2d_backward(const Pool2dParams& p, const Tensor& x, const Tensor& dy, const Tensor& workspace, Tensor& dx);
void gather(const Tensor& x, const Tensor& index, Tensor& out);
void scatter_add(const Tensor& src, const Tensor& index, Tensor& out);
void batch_norm(const Tensor& x, const Tensor* gamma, const Tensor* beta, bool training, double eps, Tensor& mean,
                Tensor& var, Tensor& y, Tensor* workspace);
void batch_norm_backward(const Tensor& x, const Tensor& dy, const Tensor* gamma, const Tensor& mean, const Tensor& var,
                         double eps, const Tensor& workspace, Tensor& dx, Tensor* dgamma, Tensor* dbeta);
void optimizer_step(const OptimizerStep& step, Tensor& param, const Tensor& grad, Tensor* slots);
void optimizer_step_group(const OptimizerStep& step, Tensor* params, const Tensor* grads, Tensor* const* slots,
                          std::int64_t count);

// Helpers shared by the kernels above.
void add_bias(Tensor& out, const Tensor& bias);    // out (..., C) += bias (C); contiguous
void sum_columns(const Tensor& x, Tensor& out);    // out (C) = sum of x (..., C) over the leading axes
void variance_from_invstd(const Tensor& invstd, double eps, Tensor& var);  // var = 1 / invstd^2 - eps
// Pooling by this backend's own kernels, for what cuDNN cannot describe
// (asymmetric padding; pool.cpp sends them here); their workspace is the i32 argmax.
// Throws the error that names what is wrong when x and y do not fit p.
void check_pool2d(const Pool2dParams& p, const Shape& x, const Shape& y, const char* what);
void pool2d_direct(const Pool2dParams& p, const Tensor& x, Tensor& y, Tensor* workspace);
void pool2d_backward_direct(const Pool2dParams& p, const Tensor& x, const Tensor& dy, const Tensor& workspace,
                            Tensor& dx);
void synchronize(Device device);                   // waits for the device's stream
// Queues a copy of host memory to the device without stalling the stream
// (through a pinned staging buffer); `src` may be freed when it returns.
void copy_host_to_device(void* dst, const void* src, std::size_t nbytes, Device device);

}  // namespace cortex::backend::cuda
