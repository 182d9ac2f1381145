// cuBLAS and cuDNN for the CUDA backend: one handle of each per device, bound
// to the device's stream, and their status codes turned into cortex errors.
// Included only by the backend's C++ sources (never by public headers).
#pragma once

#include <cublas_v2.h>
#include <cudnn.h>

#include "backends/cuda/cuda_common.h"

namespace cortex::backend::cuda {

void check_cublas(cublasStatus_t status, const char* what);
void check_cudnn(cudnnStatus_t status, const char* what);

cublasHandle_t cublas_handle(Device device);  // created on first use, bound to stream(device)
cudnnHandle_t cudnn_handle(Device device);

// A device buffer of `nbytes` from the tensor allocator (stream-ordered, so
// it may be released as soon as the work using it has been queued).
Tensor scratch(std::size_t nbytes, Device device);

}  // namespace cortex::backend::cuda
