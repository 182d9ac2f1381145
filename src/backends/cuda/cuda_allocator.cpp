// CudaAllocator: cudaMalloc/cudaFree with errors that say how much was asked.
#include "backends/cuda/cuda_allocator.h"

#include <cuda_runtime_api.h>

#include "backends/cuda/cuda_common.h"

namespace cortex::backend::cuda {

void* CudaAllocator::allocate(std::size_t nbytes) {
  if (nbytes == 0) return nullptr;
  void* ptr = nullptr;
  cudaError_t status = cudaMalloc(&ptr, nbytes);
  if (status == cudaSuccess) return ptr;
  cudaGetLastError();
  int device = -1;
  cudaGetDevice(&device);
  fail<DeviceError>("CUDA allocator could not allocate ", nbytes, " bytes on cuda:", device, ": ",
                    cudaGetErrorName(status), ": ", cudaGetErrorString(status));
}

void CudaAllocator::deallocate(void* ptr) {
  if (ptr == nullptr) return;
  // Fails only when the runtime is already unloading at exit; nothing to do then.
  if (cudaFree(ptr) != cudaSuccess) cudaGetLastError();
}

CudaAllocator& cuda_allocator() {
  static CudaAllocator* allocator = new CudaAllocator();
  return *allocator;
}

}  // namespace cortex::backend::cuda
