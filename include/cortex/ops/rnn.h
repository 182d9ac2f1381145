// A whole recurrent layer over a sequence as one op: the backend's fused
// kernel (oneDNN's RNN primitives on the cpu backend) forward and backward.
// The recurrent layers (cortex/nn/recurrent.h) call it when rnn_fused() says
// the backend runs the cell, and compose their cell loop otherwise.
#pragma once

#include <vector>

#include "cortex/backends/kernels.h"
#include "cortex/core/tensor.h"

namespace cortex {

using backend::RnnCell;

// Whether rnn() can run `cell` on x's device and dtype.
bool rnn_fused(RnnCell cell, const Tensor& x);

// x (N, T, F); h0 (N, U); c0 (N, U) for an LSTM, undefined otherwise;
// kernel (F, G * U), recurrent_kernel (U, G * U) in Keras's layout; bias
// (G * U), or for a GRU (4 * U): [b_z, b_r, b_h input, b_h recurrent] (see
// backend::RnnTensors). Returns {y (N, T, U), h_n (N, U)} and c_n for an LSTM,
// with gradients for every input. Steps run from t = 0 to T - 1.
std::vector<Tensor> rnn(RnnCell cell, const Tensor& x, const Tensor& h0, const Tensor& c0, const Tensor& kernel,
                        const Tensor& recurrent_kernel, const Tensor& bias);

}  // namespace cortex
