// Fills the ref row of the dispatch table: every cell has a reference kernel.
#include "backends/ref/ref_kernels.h"

namespace cortex::backend {

void register_ref(Kernels& row) {
  row.fill = ref::fill;
  row.copy = ref::copy;
  row.unary = ref::unary;
  row.unary_backward = ref::unary_backward;
  row.binary = ref::binary;
  row.where = ref::where;
  row.reduce = ref::reduce;
  row.softmax = ref::softmax;
  row.softmax_backward = ref::softmax_backward;
  row.softmax_cross_entropy = ref::softmax_cross_entropy;
  row.matmul = ref::matmul;
  row.conv2d = ref::conv2d;
  row.conv2d_backward_data = ref::conv2d_backward_data;
  row.conv2d_backward_weight = ref::conv2d_backward_weight;
  row.pool2d = ref::pool2d;
  row.pool2d_backward = ref::pool2d_backward;
  row.gather = ref::gather;
  row.scatter_add = ref::scatter_add;
  row.bernoulli = ref::bernoulli;
  row.batch_norm = ref::batch_norm;
  row.batch_norm_backward = ref::batch_norm_backward;
  row.optimizer_step = ref::optimizer_step;
}

}  // namespace cortex::backend
