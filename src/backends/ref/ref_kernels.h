// The reference kernels, one per cell of the dispatch table (see kernels.h for
// the contracts). register_ref puts them in the table; other backends may call
// them directly for cases they do not run fast (f64, odd geometries).
#pragma once

#include "cortex/backends/kernels.h"

namespace cortex::backend::ref {

// ref_elementwise.cpp
void fill(Tensor& out, double value);
void copy(const Tensor& src, Tensor& dst);
void binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out);
void where(const Tensor& cond, const Tensor& a, const Tensor& b, Tensor& out);

// ref_unary.cpp
void unary(UnaryOp op, const Tensor& x, Tensor& out, const UnaryParams& p);
void unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx,
                    const UnaryParams& p);

// ref_reduce.cpp
void reduce(ReduceOp op, const Tensor& x, Tensor& out);
void softmax(const Tensor& x, Tensor& out, bool log);
void softmax_backward(const Tensor& y, const Tensor& dy, Tensor& dx, bool log);
void softmax_cross_entropy(const Tensor& logits, const Tensor& targets, Tensor& loss, Tensor* grad);

// ref_norm.cpp
void batch_norm(const Tensor& x, const Tensor* gamma, const Tensor* beta, bool training, double eps, Tensor& mean,
                Tensor& var, Tensor& y, Tensor* workspace);
void batch_norm_backward(const Tensor& x, const Tensor& dy, const Tensor* gamma, const Tensor& mean, const Tensor& var,
                         double eps, const Tensor& workspace, Tensor& dx, Tensor* dgamma, Tensor* dbeta);

// ref_matmul.cpp
void matmul(const Tensor& a, const Tensor& b, const Tensor* bias, Tensor& out);

// ref_conv.cpp
void conv2d(const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& y, const Conv2dParams& p);
void conv2d_backward_data(const Tensor& dy, const Tensor& w, Tensor& dx, const Conv2dParams& p);
void conv2d_backward_weight(const Tensor& x, const Tensor& dy, Tensor& dw, Tensor* db,
                            const Conv2dParams& p);

// ref_pool.cpp
void pool2d(const Pool2dParams& p, const Tensor& x, Tensor& y, Tensor* workspace);
void pool2d_backward(const Pool2dParams& p, const Tensor& x, const Tensor& dy,
                     const Tensor& workspace, Tensor& dx);

// ref_index.cpp
void gather(const Tensor& x, const Tensor& index, Tensor& out);
void scatter_add(const Tensor& src, const Tensor& index, Tensor& out);
void bernoulli(Tensor& out, double p, double scale, std::uint64_t seed, std::uint64_t first_block);
void optimizer_step(const OptimizerStep& step, Tensor& param, const Tensor& grad, Tensor* slots);

}  // namespace cortex::backend::ref
