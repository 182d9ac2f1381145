// Device memory for CUDA tensors: plain cudaMalloc/cudaFree.
#pragma once

#include <cstddef>

#include "cortex/core/storage.h"

namespace cortex::backend::cuda {

// Allocates on the current CUDA device: Allocator::allocate is not told the
// tensor's device index, so tensors on cuda:N need cuda:N to be current.
class CudaAllocator final : public Allocator {
 public:
  void* allocate(std::size_t nbytes) override;  // throws DeviceError when out of memory
  void deallocate(void* ptr) override;          // never throws
};

// The process-wide instance; never destroyed, so storages freed during exit
// still find it.
CudaAllocator& cuda_allocator();

}  // namespace cortex::backend::cuda
