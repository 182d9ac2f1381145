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
}

}  // namespace cortex::backend
