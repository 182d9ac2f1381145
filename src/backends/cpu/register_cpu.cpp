// Fills the cpu row of the dispatch table: oneDNN for matmul, convolution and
// pooling, OpenMP loops for the rest; gather and scatter_add are the reference's.
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
  row.matmul = cpu::matmul;
  row.conv2d = cpu::conv2d;
  row.conv2d_backward_data = cpu::conv2d_backward_data;
  row.conv2d_backward_weight = cpu::conv2d_backward_weight;
  row.pool2d = cpu::pool2d;
  row.pool2d_backward = cpu::pool2d_backward;
  row.gather = gather;
  row.scatter_add = scatter_add;
}

}  // namespace cortex::backend
