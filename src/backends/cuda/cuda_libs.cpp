// Per-device cuBLAS and cuDNN handles.
#include "backends/cuda/cuda_libs.h"

#include <array>
#include <mutex>

namespace cortex::backend::cuda {
namespace {

constexpr int kMaxDevices = 16;

int slot(Device device) {
  if (!device.is_cuda() || device.index < 0 || device.index >= kMaxDevices)
    fail<DeviceError>("the CUDA backend expects a device cuda:0 to cuda:", kMaxDevices - 1, ", got ", device.str());
  return device.index;
}

}  // namespace

void check_cublas(cublasStatus_t status, const char* what) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  fail<DeviceError>(what, " failed: ", cublasGetStatusName(status), ": ", cublasGetStatusString(status));
}

void check_cudnn(cudnnStatus_t status, const char* what) {
  if (status == CUDNN_STATUS_SUCCESS) return;
  fail<DeviceError>(what, " failed: ", cudnnGetErrorString(status));
}

cublasHandle_t cublas_handle(Device device) {
  // Leaked on purpose, like the streams: freeing them during exit races the driver's unload.
  static auto* handles = new std::array<cublasHandle_t, kMaxDevices>{};
  static auto* mutex = new std::mutex;
  const int i = slot(device);
  std::lock_guard<std::mutex> lock(*mutex);
  cublasHandle_t& h = (*handles)[static_cast<std::size_t>(i)];
  if (h == nullptr) {
    DeviceGuard guard(device);
    check_cublas(cublasCreate(&h), "cublasCreate");
    check_cublas(cublasSetStream(h, stream(device)), "cublasSetStream");
  }
  return h;
}

cudnnHandle_t cudnn_handle(Device device) {
  static auto* handles = new std::array<cudnnHandle_t, kMaxDevices>{};
  static auto* mutex = new std::mutex;
  const int i = slot(device);
  std::lock_guard<std::mutex> lock(*mutex);
  cudnnHandle_t& h = (*handles)[static_cast<std::size_t>(i)];
  if (h == nullptr) {
    DeviceGuard guard(device);
    check_cudnn(cudnnCreate(&h), "cudnnCreate");
    check_cudnn(cudnnSetStream(h, stream(device)), "cudnnSetStream");
  }
  return h;
}

cudnnDataType_t cudnn_type(DType dtype, const char* what) {
  switch (dtype) {
    case DType::f32: return CUDNN_DATA_FLOAT;
    case DType::f64: return CUDNN_DATA_DOUBLE;
    case DType::bf16: return CUDNN_DATA_BFLOAT16;
    default: break;
  }
  fail<DTypeError>(what, " on cuda expects f32, f64 or bf16, got ", dtype_name(dtype));
}

Tensor scratch(std::size_t nbytes, Device device) {
  return Tensor::empty({static_cast<std::int64_t>(nbytes)}, DType::u8, device);
}

}  // namespace cortex::backend::cuda
