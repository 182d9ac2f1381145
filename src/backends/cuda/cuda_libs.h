// cuBLAS and cuDNN for the CUDA backend: one handle of each per device, bound
// to the device's stream, and their status codes turned into cortex errors.
// Included only by the backend's C++ sources (never by public headers).
#pragma once

#include <cublas_v2.h>
#include <cudnn.h>

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "backends/cuda/cuda_common.h"

namespace cortex::backend::cuda {

void check_cublas(cublasStatus_t status, const char* what);
void check_cudnn(cudnnStatus_t status, const char* what);

cublasHandle_t cublas_handle(Device device);  // created on first use, bound to stream(device)
cudnnHandle_t cudnn_handle(Device device);

// cuDNN's element type for f32, f64 and bf16; anything else is a DTypeError naming `what`.
cudnnDataType_t cudnn_type(DType dtype, const char* what);

// The blend factors alpha = 1 and beta = 0 in the precision cuDNN reads them
// in: double for f64 data, float otherwise.
struct CudnnScalars {
  float f1 = 1.0f, f0 = 0.0f;
  double d1 = 1.0, d0 = 0.0;
  const void* one(DType d) const { return d == DType::f64 ? static_cast<const void*>(&d1) : &f1; }
  const void* zero(DType d) const { return d == DType::f64 ? static_cast<const void*>(&d0) : &f0; }
};

// A cuDNN descriptor owned: created on construction (an error names `Create`'s
// call), destroyed with its owner, also when the owner's constructor throws after it.
template <typename Handle, cudnnStatus_t (*Create)(Handle*), cudnnStatus_t (*Destroy)(Handle)>
class CudnnDescriptor {
 public:
  CudnnDescriptor() { check_cudnn(Create(&handle_), "cudnnCreate...Descriptor"); }
  ~CudnnDescriptor() {
    if (handle_) Destroy(handle_);
  }
  CudnnDescriptor(const CudnnDescriptor&) = delete;
  CudnnDescriptor& operator=(const CudnnDescriptor&) = delete;
  operator Handle() const { return handle_; }

 private:
  Handle handle_ = nullptr;
};
using TensorDescriptor = CudnnDescriptor<cudnnTensorDescriptor_t, cudnnCreateTensorDescriptor, cudnnDestroyTensorDescriptor>;
using PoolingDescriptor =
    CudnnDescriptor<cudnnPoolingDescriptor_t, cudnnCreatePoolingDescriptor, cudnnDestroyPoolingDescriptor>;
using FilterDescriptor = CudnnDescriptor<cudnnFilterDescriptor_t, cudnnCreateFilterDescriptor, cudnnDestroyFilterDescriptor>;
using ConvolutionDescriptor =
    CudnnDescriptor<cudnnConvolutionDescriptor_t, cudnnCreateConvolutionDescriptor, cudnnDestroyConvolutionDescriptor>;

// A device buffer of `nbytes` from the tensor allocator (stream-ordered, so
// it may be released as soon as the work using it has been queued).
Tensor scratch(std::size_t nbytes, Device device);

// The T kept under `key` (cuDNN descriptors of one geometry), made by make(),
// which returns a std::unique_ptr<T>, on first use. One map per T shared by
// every thread; an entry is never removed, so the reference stays valid.
template <typename T, typename Make>
T& kept(const std::string& key, Make&& make) {
  static auto* map = new std::unordered_map<std::string, std::unique_ptr<T>>();
  static auto* mutex = new std::mutex;
  std::lock_guard<std::mutex> lock(*mutex);
  auto it = map->find(key);
  if (it == map->end()) it = map->emplace(key, make()).first;
  return *it->second;
}

}  // namespace cortex::backend::cuda
