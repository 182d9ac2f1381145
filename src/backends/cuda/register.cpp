// The CUDA backend's row of the dispatch table. Makes no CUDA call, so a
// CUDA build still starts on a machine without a GPU.
#include "backends/cuda/cuda_allocator.h"
#include "backends/cuda/cuda_kernels.h"
#include "cortex/backends/kernels.h"
#include "cortex/core/storage.h"

namespace cortex::backend {

void register_cuda(Kernels& row) {
  set_allocator(DeviceType::CUDA, &cuda::cuda_allocator());
  row.fill = cuda::fill;
  row.copy = cuda::copy;
  row.unary = cuda::unary;
  row.unary_backward = cuda::unary_backward;
  row.binary = cuda::binary;
  row.where = cuda::where;
  row.bernoulli = cuda::bernoulli;
  row.reduce = cuda::reduce;
  row.softmax = cuda::softmax;
  row.softmax_backward = cuda::softmax_backward;
  row.softmax_cross_entropy = cuda::softmax_cross_entropy;
  row.matmul = cuda::matmul;
  row.conv2d = cuda::conv2d;
  row.conv2d_backward_data = cuda::conv2d_backward_data;
  row.conv2d_backward_weight = cuda::conv2d_backward_weight;
  row.pool2d = cuda::pool2d;
  row.pool2d_backward = cuda::pool2d_backward;
  row.gather = cuda::gather;
  row.scatter_add = cuda::scatter_add;
  row.batch_norm = cuda::batch_norm;
  row.batch_norm_backward = cuda::batch_norm_backward;
  row.optimizer_step = cuda::optimizer_step;
  row.optimizer_step_group = cuda::optimizer_step_group;
}

}  // namespace cortex::backend
