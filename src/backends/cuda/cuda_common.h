// Helpers shared by the CUDA backend's sources: turning CUDA status codes into
// cortex errors, and selecting a tensor's device for the length of a call.
#pragma once

#include <cuda_runtime_api.h>

#include "cortex/core/device.h"
#include "cortex/core/error.h"

namespace cortex::backend::cuda {

// Throws DeviceError naming the failed call and CUDA's own message.
inline void check(cudaError_t status, const char* what) {
  if (status == cudaSuccess) return;
  cudaGetLastError();  // clear a non-sticky error so the next call starts clean
  fail<DeviceError>(what, " failed: ", cudaGetErrorName(status), ": ", cudaGetErrorString(status));
}

// Makes `device` current while alive (no-op for CPU devices).
class DeviceGuard {
 public:
  explicit DeviceGuard(Device device) {
    if (!device.is_cuda()) return;
    check(cudaGetDevice(&previous_), "cudaGetDevice");
    if (previous_ != device.index) {
      check(cudaSetDevice(device.index), "cudaSetDevice");
      restore_ = true;
    }
  }
  ~DeviceGuard() {
    if (restore_) cudaSetDevice(previous_);
  }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = 0;
  bool restore_ = false;
};

}  // namespace cortex::backend::cuda
