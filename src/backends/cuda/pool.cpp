// 2-D max and average pooling on CUDA through cuDNN, on NHWC tensors. NaN
// propagates (a window holding one pools to NaN), average pooling divides by
// the cells inside the input (Keras's), and max pooling's backward is the
// deterministic variant. cuDNN pads symmetrically: other paddings go to the
// backend's own kernels (index_pool.cu). The max-pool workspace of the cuDNN
// path is y itself, which cuDNN's backward reads beside x. The descriptors of
// each geometry are made once and kept, as the convolution's plans are: a
// pooling call is a few microseconds of host time on a step bound by the host.
#include <cstdint>
#include <memory>
#include <string>

#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/cuda_libs.h"
#include "cortex/backends/kernels.h"

namespace cortex::backend::cuda {
namespace {

bool symmetric(const Pool2dParams& p) { return p.pad_top == p.pad_bottom && p.pad_left == p.pad_right; }

bool fits_cudnn(const Pool2dParams& p, const Tensor& x, const Tensor& y) {
  if (!symmetric(p) || x.dim() != 4 || y.dim() != 4 || !x.is_contiguous() || !y.is_contiguous()) return false;
  if (x.dtype() != DType::f32 && x.dtype() != DType::f64 && x.dtype() != DType::bf16) return false;
  for (std::int64_t v : {x.shape()[0], x.shape()[1], x.shape()[2], x.shape()[3], p.kernel_h, p.kernel_w, p.stride_h,
                         p.stride_w, p.pad_top, p.pad_left})
    if (v > 0x7fffffff) return false;
  // cuDNN's tensor descriptors hold up to 2^31 elements; the own kernels index in 64 bits.
  return x.numel() <= 0x7fffffff && y.numel() <= 0x7fffffff;
}

struct PoolDescriptors {
  PoolingDescriptor pool;
  TensorDescriptor x, y;
  PoolDescriptors(const Pool2dParams& p, const Shape& xs, const Shape& ys, DType dtype) {
    auto i = [](std::int64_t v) { return static_cast<int>(v); };
    const cudnnDataType_t type = cudnn_type(dtype, "pool2d");
    check_cudnn(cudnnSetPooling2dDescriptor(pool,
                                            p.kind == PoolKind::max ? CUDNN_POOLING_MAX_DETERMINISTIC
                                                                    : CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING,
                                            CUDNN_PROPAGATE_NAN, i(p.kernel_h), i(p.kernel_w), i(p.pad_top),
                                            i(p.pad_left), i(p.stride_h), i(p.stride_w)),
                "cudnnSetPooling2dDescriptor");
    check_cudnn(cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NHWC, type, i(xs[0]), i(xs[3]), i(xs[1]), i(xs[2])),
                "cudnnSetTensor4dDescriptor (x)");
    check_cudnn(cudnnSetTensor4dDescriptor(y, CUDNN_TENSOR_NHWC, type, i(ys[0]), i(ys[3]), i(ys[1]), i(ys[2])),
                "cudnnSetTensor4dDescriptor (y)");
  }
};

// The descriptors of one geometry, made on first use; never changed after.
const PoolDescriptors& descriptors(const Pool2dParams& p, const Shape& xs, const Shape& ys, DType dtype) {
  const std::string key = detail::cat(static_cast<int>(p.kind), '|', dtype_name(dtype), '|', shape_str(xs),
                                      shape_str(ys), '|', p.kernel_h, ',', p.kernel_w, ',', p.stride_h, ',',
                                      p.stride_w, ',', p.pad_top, ',', p.pad_left);
  return kept<PoolDescriptors>(key, [&] { return std::make_unique<PoolDescriptors>(p, xs, ys, dtype); });
}

}  // namespace

void pool2d(const Pool2dParams& p, const Tensor& x, Tensor& y, Tensor* workspace) {
  if (!fits_cudnn(p, x, y) || y.numel() == 0) return pool2d_direct(p, x, y, workspace);
  check_pool2d(p, x.shape(), y.shape(), "pool2d");
  DeviceGuard guard(y.device());
  const PoolDescriptors& d = descriptors(p, x.shape(), y.shape(), x.dtype());
  const CudnnScalars s;
  check_cudnn(cudnnPoolingForward(cudnn_handle(y.device()), d.pool, s.one(x.dtype()), d.x, device_address(x),
                                  s.zero(x.dtype()), d.y, device_address(y)),
              "cudnnPoolingForward");
  if (workspace != nullptr) *workspace = y;  // cuDNN's max backward reads y
}

void pool2d_backward(const Pool2dParams& p, const Tensor& x, const Tensor& dy, const Tensor& workspace, Tensor& dx) {
  const bool max = p.kind == PoolKind::max;
  // The cuDNN forward's workspace is y (x's dtype); the direct kernels' is i32.
  const bool has_y = workspace.defined() && workspace.dtype() == x.dtype() && workspace.shape() == dy.shape() &&
                     workspace.device() == dy.device() && workspace.is_contiguous();
  if (!fits_cudnn(p, x, dy) || !dx.is_contiguous() || !dy.is_contiguous() || (max && !has_y) || dx.numel() == 0 ||
      dy.numel() == 0 || dy.dtype() != x.dtype() || dx.dtype() != x.dtype() || dx.shape() != x.shape())
    return pool2d_backward_direct(p, x, dy, max && has_y ? Tensor() : workspace, dx);
  check_pool2d(p, x.shape(), dy.shape(), "pool2d_backward");
  DeviceGuard guard(dx.device());
  const PoolDescriptors& d = descriptors(p, x.shape(), dy.shape(), x.dtype());
  const CudnnScalars s;
  // Average pooling never reads y; dy stands in for it (same shape and dtype).
  const Tensor& y = max ? workspace : dy;
  check_cudnn(cudnnPoolingBackward(cudnn_handle(dx.device()), d.pool, s.one(x.dtype()), d.y, device_address(y), d.y,
                                   device_address(dy), d.x, device_address(x), s.zero(x.dtype()), d.x,
                                   device_address(dx)),
              "cudnnPoolingBackward");
}

}  // namespace cortex::backend::cuda
