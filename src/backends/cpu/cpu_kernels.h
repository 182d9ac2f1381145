// The cpu backend's kernels, one per cell of the dispatch table (contracts in
// kernels.h), and the hand-off to the reference kernels for what they do not
// run fast (f64 convolutions, integer arithmetic, gather).
#pragma once

#include "cortex/backends/kernels.h"

namespace cortex::backend::cpu {

// The reference backend's kernel for `cell`, fetched at call time.
template <typename Fn>
Fn ref_kernel(Fn Kernels::*cell, const char* op_name) {
  Fn fn = kernels(Backend::Ref).*cell;
  if (fn == nullptr) missing_kernel(op_name, Backend::Ref);
  return fn;
}

// cpu_elementwise.cpp
void fill(Tensor& out, double value);
void copy(const Tensor& src, Tensor& dst);
void unary(UnaryOp op, const Tensor& x, Tensor& out, const UnaryParams& p);
void unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx,
                    const UnaryParams& p);
void binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out);
void where(const Tensor& cond, const Tensor& a, const Tensor& b, Tensor& out);

// cpu_reduce.cpp
void reduce(ReduceOp op, const Tensor& x, Tensor& out);
void softmax(const Tensor& x, Tensor& out, bool log);
void softmax_backward(const Tensor& y, const Tensor& dy, Tensor& dx, bool log);

// cpu_matmul.cpp
void matmul(const Tensor& a, const Tensor& b, const Tensor* bias, Tensor& out);

// cpu_conv.cpp
void conv2d(const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& y, const Conv2dParams& p);
void conv2d_backward_data(const Tensor& dy, const Tensor& w, Tensor& dx, const Conv2dParams& p);
void conv2d_backward_weight(const Tensor& x, const Tensor& dy, Tensor& dw, Tensor* db,
                            const Conv2dParams& p);

// cpu_pool.cpp
void pool2d(const Pool2dParams& p, const Tensor& x, Tensor& y, Tensor* workspace);
void pool2d_backward(const Pool2dParams& p, const Tensor& x, const Tensor& dy,
                     const Tensor& workspace, Tensor& dx);

// cpu_norm.cpp
void batch_norm(const Tensor& x, const Tensor* gamma, const Tensor* beta, bool training, double eps, Tensor& mean,
                Tensor& var, Tensor& y, Tensor* workspace);
void batch_norm_backward(const Tensor& x, const Tensor& dy, const Tensor* gamma, const Tensor& mean, const Tensor& var,
                         double eps, const Tensor& workspace, Tensor& dx, Tensor* dgamma, Tensor* dbeta);

// cpu_rnn.cpp
void rnn(RnnCell cell, RnnTensors& t, Tensor* workspace);
void rnn_backward(RnnCell cell, const RnnTensors& t, const Tensor& workspace, const Tensor& dy, const Tensor& dh_n,
                  const Tensor& dc_n, RnnTensors& grads);
bool rnn_supports(RnnCell cell, DType dtype);

// cpu_optim.cpp
void optimizer_step(const OptimizerStep& s, Tensor& param, const Tensor& grad, Tensor* slots);

// cpu_random.cpp
void bernoulli(Tensor& out, double p, double scale, std::uint64_t seed, std::uint64_t first_block);

}  // namespace cortex::backend::cpu
