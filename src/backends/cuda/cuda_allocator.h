// Device memory for CUDA tensors: the stream-ordered pool (cudaMallocAsync on
// the device's stream), kept by the pool between steps instead of returned to
// the driver, so the steady state of a training loop allocates nothing new.
#pragma once

#include <cstddef>

#include "cortex/core/storage.h"

namespace cortex::backend::cuda {

class CudaAllocator final : public Allocator {
 public:
  // Throws DeviceError naming the size and the device when the pool and the
  // driver both refuse (after one retry with the pool's cache released).
  void* allocate(std::size_t nbytes, Device device) override;
  void deallocate(void* ptr, Device device) override;  // never throws
};

// The process-wide instance; never destroyed, so storages freed during exit
// still find it.
CudaAllocator& cuda_allocator();

}  // namespace cortex::backend::cuda
