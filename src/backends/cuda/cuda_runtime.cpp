// Probing the CUDA runtime for a device.
#include "backends/cuda/cuda_runtime.h"

#include <cuda_runtime_api.h>

namespace cortex::backend {

bool cuda_runtime_available() noexcept {
  static const bool available = [] {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess) {
      cudaGetLastError();  // no driver or no device: clear the error, answer no
      return false;
    }
    return count > 0;
  }();
  return available;
}

}  // namespace cortex::backend
