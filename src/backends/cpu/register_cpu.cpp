// Fills the cpu row of the dispatch table: oneDNN for matmul, convolution,
// pooling, batch normalisation and whole recurrent layers, OpenMP loops for
// the rest (the fused optimiser step in f32 among
// them, and dropout masks in AVX2 lanes); gather and scatter_add are the reference's (threaded), and
// so is softmax cross-entropy (one pass per row, single-threaded: rows x classes
// is small next to the layers before it).
#include "backends/cpu/cpu_kernels.h"

namespace cortex::backend {
namespace {

// x: (O, N, I) strided, index: (O, M, I) i64 -> out: (O, M, I).
void gather(const Tensor& x, const Tensor& index, Tensor& out) {
  cpu::ref_kernel(&Kernels::gather, "gather")(x, index, out);
}

// src, index: (O, M, I) -> out: (O, N, I), accumulated into.
void scatter_add(const Tensor& src, const Tensor& index, Tensor& out) {
  cpu::ref_kernel(&Kernels::scatter_add, "scatter_add")(src, index, out);
}

// logits, targets: (M, K) -> loss (M) and grad (M, K): one pass per row, small
// next to the layers before it (M x classes).
void softmax_cross_entropy(const Tensor& logits, const Tensor& targets, Tensor& loss, Tensor* grad) {
  cpu::ref_kernel(&Kernels::softmax_cross_entropy, "softmax_cross_entropy")(logits, targets, loss, grad);
}

}  // namespace

void register_cpu(Kernels& row) {
  row.fill = cpu::fill;
  row.copy = cpu::copy;
  row.unary = cpu::unary;
  row.unary_backward = cpu::unary_backward;
  row.binary = cpu::binary;
  row.where = cpu::where;
  row.reduce = cpu::reduce;
  row.softmax = cpu::softmax;
  row.softmax_backward = cpu::softmax_backward;
  row.softmax_cross_entropy = softmax_cross_entropy;
  row.matmul = cpu::matmul;
  row.conv2d = cpu::conv2d;
  row.conv2d_backward_data = cpu::conv2d_backward_data;
  row.conv2d_backward_weight = cpu::conv2d_backward_weight;
  row.pool2d = cpu::pool2d;
  row.pool2d_backward = cpu::pool2d_backward;
  row.gather = gather;
  row.scatter_add = scatter_add;
  row.bernoulli = cpu::bernoulli;
  row.batch_norm = cpu::batch_norm;
  row.batch_norm_backward = cpu::batch_norm_backward;
  row.rnn = cpu::rnn;
  row.rnn_backward = cpu::rnn_backward;
  row.rnn_supports = cpu::rnn_supports;
  row.optimizer_step = cpu::optimizer_step;
}

}  // namespace cortex::backend
