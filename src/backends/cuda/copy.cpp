// Copy on CUDA: contiguous same-dtype tensors, between host and device memory
// either way and between devices, each as one cudaMemcpy.
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "backends/cuda/cuda_common.h"
#include "backends/cuda/cuda_kernels.h"

namespace cortex::backend::cuda {
namespace {

// Address of the tensor's first element; no dereference, so it works for device memory.
void* first_element(const Tensor& t) {
  const auto esize = static_cast<std::int64_t>(element_size(t.dtype()));
  return static_cast<char*>(t.storage()->data()) + t.offset() * esize;
}

std::string describe(const Tensor& t) {
  return detail::cat(dtype_name(t.dtype()), " ", shape_str(t.shape()),
                     t.is_contiguous() ? std::string(" contiguous") : " strides " + shape_str(t.strides()),
                     " on ", t.device().str());
}

cudaMemcpyKind memcpy_kind(Device from, Device to) {
  if (from.is_cpu()) return to.is_cpu() ? cudaMemcpyHostToHost : cudaMemcpyHostToDevice;
  return to.is_cpu() ? cudaMemcpyDeviceToHost : cudaMemcpyDeviceToDevice;
}

}  // namespace

void copy(const Tensor& src, Tensor& dst) {
  if (src.numel() != dst.numel())
    fail<ShapeError>("copy on cuda expects tensors of one size, got src ", shape_str(src.shape()),
                     " and dst ", shape_str(dst.shape()));
  if (src.dtype() != dst.dtype() || !src.is_contiguous() || !dst.is_contiguous())
    fail("copy on cuda supports contiguous same-dtype tensors for now, got src ", describe(src),
         " and dst ", describe(dst));

  const std::size_t nbytes = static_cast<std::size_t>(src.numel()) * element_size(src.dtype());
  if (nbytes == 0) return;
  const Device from = src.device();
  const Device to = dst.device();
  if (from.is_cuda() && to.is_cuda() && from.index != to.index) {
    check(cudaMemcpyPeer(first_element(dst), to.index, first_element(src), from.index, nbytes),
          "cudaMemcpyPeer");
    return;
  }
  DeviceGuard guard(from.is_cuda() ? from : to);
  check(cudaMemcpy(first_element(dst), first_element(src), nbytes, memcpy_kind(from, to)), "cudaMemcpy");
}

}  // namespace cortex::backend::cuda
