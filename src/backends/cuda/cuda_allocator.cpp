// CudaAllocator: stream-ordered allocations from each device's default pool.
#include "backends/cuda/cuda_allocator.h"

#include <cuda_runtime_api.h>

#include <cstdint>
#include <limits>

#include "backends/cuda/cuda_common.h"

namespace cortex::backend::cuda {
namespace {

// Once per device: let the pool keep freed memory (the default threshold of 0
// hands it back to the driver at every synchronisation).
void keep_pool_memory(Device device) {
  static bool done[64] = {};
  if (done[device.index]) return;
  cudaMemPool_t pool = nullptr;
  check(cudaDeviceGetDefaultMemPool(&pool, device.index), "cudaDeviceGetDefaultMemPool");
  std::uint64_t threshold = std::numeric_limits<std::uint64_t>::max();
  check(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &threshold), "cudaMemPoolSetAttribute");
  done[device.index] = true;
}

}  // namespace

void* CudaAllocator::allocate(std::size_t nbytes, Device device) {
  if (nbytes == 0) return nullptr;
  if (!device.is_cuda() || device.index < 0 || device.index >= 64)
    fail<DeviceError>("CUDA allocator expects a CUDA device, got ", device.str());
  DeviceGuard guard(device);
  cudaStream_t s = stream(device);
  keep_pool_memory(device);
  void* ptr = nullptr;
  cudaError_t status = cudaMallocAsync(&ptr, nbytes, s);
  if (status == cudaErrorMemoryAllocation) {  // give the pool's cache back and try once more
    cudaGetLastError();
    cudaStreamSynchronize(s);
    cudaMemPool_t pool = nullptr;
    if (cudaDeviceGetDefaultMemPool(&pool, device.index) == cudaSuccess) cudaMemPoolTrimTo(pool, 0);
    status = cudaMallocAsync(&ptr, nbytes, s);
  }
  if (status == cudaSuccess) return ptr;
  cudaGetLastError();
  std::size_t free_bytes = 0, total_bytes = 0;
  cudaMemGetInfo(&free_bytes, &total_bytes);
  fail<DeviceError>("CUDA allocator could not allocate ", nbytes, " bytes on ", device.str(), " (",
                    free_bytes, " of ", total_bytes, " bytes free): ", cudaGetErrorName(status), ": ",
                    cudaGetErrorString(status));
}

void CudaAllocator::deallocate(void* ptr, Device device) {
  if (ptr == nullptr) return;
  // Stream-ordered: the memory is reused only by work queued after this point.
  // Fails only when the runtime is already unloading at exit; nothing to do then.
  try {
    DeviceGuard guard(device);
    if (cudaFreeAsync(ptr, stream(device)) != cudaSuccess) cudaGetLastError();
  } catch (...) {
  }
}

CudaAllocator& cuda_allocator() {
  static CudaAllocator* allocator = new CudaAllocator();
  return *allocator;
}

}  // namespace cortex::backend::cuda
