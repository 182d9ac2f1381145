// Batch normalisation on CUDA through cuDNN (spatial mode: statistics per
// channel over every other axis). A 4-D x is described as NHWC; any other
// (..., C) as (rows, C, 1, 1). The training forward saves cuDNN's inverse
// standard deviation in the workspace for the backward and derives the biased
// batch variance of the contract from it. cuDNN 9 marks these calls
// deprecated in favour of its graph API; they remain its batch-norm kernels.
// The descriptors of each shape are made once and kept.
#include <cstdint>
#include <memory>

#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/cuda_libs.h"
#include "cortex/backends/kernels.h"

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace cortex::backend::cuda {
namespace {

// x: a contiguous f32 or f64 (..., C) within cuDNN's int sizes.
void check_x(const Tensor& x, const char* what) {
  const Shape& s = x.shape();
  if (x.dtype() != DType::f32 && x.dtype() != DType::f64)
    fail<DTypeError>(what, " on cuda expects f32 or f64, got ", dtype_name(x.dtype()));
  if (s.empty() || s.back() < 1 || !x.is_contiguous())
    fail<ShapeError>(what, " on cuda expects a contiguous x of shape (..., C), got ", shape_str(s));
  for (std::int64_t v : s)
    if (v > 0x7fffffff) fail(what, " on cuda handles sizes up to 2^31, got x ", shape_str(s));
  if (x.numel() > 0x7fffffff)  // cuDNN's tensor descriptors hold up to 2^31 elements
    fail(what, " on cuda handles up to 2^31 elements, got x ", shape_str(s), " (split the batch)");
}

// x's descriptor and the per-channel one cuDNN derives from it.
struct Descriptors {
  TensorDescriptor x, channel;
  Descriptors(const Tensor& x_tensor, const char* what) {
    const Shape& s = x_tensor.shape();
    const cudnnDataType_t type = cudnn_type(x_tensor.dtype(), what);
    auto i = [](std::int64_t v) { return static_cast<int>(v); };
    const std::int64_t C = s.back();
    if (s.size() == 4)
      check_cudnn(cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NHWC, type, i(s[0]), i(C), i(s[1]), i(s[2])),
                  "cudnnSetTensor4dDescriptor (x)");
    else
      check_cudnn(cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NCHW, type, i(x_tensor.numel() / C), i(C), 1, 1),
                  "cudnnSetTensor4dDescriptor (x)");
    check_cudnn(cudnnDeriveBNTensorDescriptor(channel, x, CUDNN_BATCHNORM_SPATIAL), "cudnnDeriveBNTensorDescriptor");
  }
};

// x checked, then the descriptors of its shape and dtype, made once and kept.
const Descriptors& descriptors(const Tensor& x, const char* what) {
  check_x(x, what);
  return kept<Descriptors>(detail::cat(dtype_name(x.dtype()), shape_str(x.shape())),
                           [&] { return std::make_unique<Descriptors>(x, what); });
}

// cuDNN wants every per-channel operand: an absent gamma is ones, beta zeros.
Tensor or_filled(const Tensor* t, const Tensor& x, double value) {
  if (t != nullptr) return *t;
  Tensor filled = Tensor::empty({x.shape().back()}, x.dtype(), x.device());
  fill(filled, value);
  return filled;
}

void expect_channel(const Tensor* t, const Tensor& x, const char* what, const char* name) {
  if (t == nullptr) return;
  if (t->dtype() != x.dtype())
    fail<DTypeError>(what, " on cuda expects ", name, " of dtype ", dtype_name(x.dtype()), ", got ",
                     dtype_name(t->dtype()));
  if (t->shape() != Shape{x.shape().back()} || !t->is_contiguous())
    fail<ShapeError>(what, " on cuda expects ", name, " as a contiguous ", dtype_name(x.dtype()), " [",
                     x.shape().back(), "], got ", dtype_name(t->dtype()), " ", shape_str(t->shape()));
}


}  // namespace

void batch_norm(const Tensor& x, const Tensor* gamma, const Tensor* beta, bool training, double eps, Tensor& mean,
                Tensor& var, Tensor& y, Tensor* workspace) {
  const char* what = "batch_norm";
  const Descriptors& d = descriptors(x, what);
  for (auto [t, name] : {std::pair{gamma, "gamma"}, {beta, "beta"}, {&mean, "mean"}, {&var, "var"}})
    expect_channel(t, x, what, name);
  if (y.shape() != x.shape() || y.dtype() != x.dtype() || !y.is_contiguous())
    fail<ShapeError>(what, " on cuda expects y shaped like x ", shape_str(x.shape()), ", got ", shape_str(y.shape()));
  if (x.numel() == 0) return;
  DeviceGuard guard(x.device());
  const Tensor g = or_filled(gamma, x, 1.0), b = or_filled(beta, x, 0.0);
  const CudnnScalars scalars;
  const void *one = scalars.one(x.dtype()), *zero = scalars.zero(x.dtype());
  cudnnHandle_t h = cudnn_handle(x.device());
  if (!training) {
    check_cudnn(cudnnBatchNormalizationForwardInference(h, CUDNN_BATCHNORM_SPATIAL, one, zero, d.x,
                                                        device_address(x), d.x, device_address(y), d.channel, device_address(g), device_address(b), device_address(mean),
                                                        device_address(var), eps),
                "cudnnBatchNormalizationForwardInference");
    return;
  }
  Tensor invstd = Tensor::empty({x.shape().back()}, x.dtype(), x.device());
  // No running averages here (the op keeps Keras's, from the biased variance).
  check_cudnn(cudnnBatchNormalizationForwardTraining(h, CUDNN_BATCHNORM_SPATIAL, one, zero, d.x,
                                                     device_address(x), d.x, device_address(y), d.channel, device_address(g), device_address(b), 0.0, nullptr,
                                                     nullptr, eps, device_address(mean), device_address(invstd)),
              "cudnnBatchNormalizationForwardTraining");
  variance_from_invstd(invstd, eps, var);
  if (workspace != nullptr) *workspace = invstd;
}

void batch_norm_backward(const Tensor& x, const Tensor& dy, const Tensor* gamma, const Tensor& mean, const Tensor& var,
                         double eps, const Tensor& workspace, Tensor& dx, Tensor* dgamma, Tensor* dbeta) {
  const char* what = "batch_norm_backward";
  const Descriptors& d = descriptors(x, what);
  const Tensor *dg_in = dgamma, *db_in = dbeta;
  for (auto [t, name] :
       {std::pair{gamma, "gamma"}, {&mean, "mean"}, {&var, "var"}, {dg_in, "dgamma"}, {db_in, "dbeta"}})
    expect_channel(t, x, what, name);
  for (const Tensor* t : {&dy, static_cast<const Tensor*>(&dx)})
    if (t->shape() != x.shape() || t->dtype() != x.dtype() || !t->is_contiguous())
      fail<ShapeError>(what, " on cuda expects dy and dx shaped like x ", shape_str(x.shape()), ", got ",
                       shape_str(t->shape()));
  const bool saved = workspace.defined();
  if (saved) expect_channel(&workspace, x, what, "the workspace of the cuda forward");
  if (x.numel() == 0) return;
  DeviceGuard guard(x.device());
  const Tensor g = or_filled(gamma, x, 1.0);
  const Tensor dg = dgamma != nullptr ? *dgamma : Tensor::empty({x.shape().back()}, x.dtype(), x.device());
  const Tensor db = dbeta != nullptr ? *dbeta : Tensor::empty({x.shape().back()}, x.dtype(), x.device());
  const CudnnScalars scalars;
  const void *one = scalars.one(x.dtype()), *zero = scalars.zero(x.dtype());
  // Without the forward's saved statistics cuDNN recomputes them from x.
  check_cudnn(cudnnBatchNormalizationBackward(cudnn_handle(x.device()), CUDNN_BATCHNORM_SPATIAL, one,
                                              zero, one, zero, d.x, device_address(x), d.x, device_address(dy), d.x,
                                              device_address(dx), d.channel, device_address(g), device_address(dg), device_address(db), eps,
                                              saved ? device_address(mean) : nullptr, saved ? device_address(workspace) : nullptr),
              "cudnnBatchNormalizationBackward");
}

}  // namespace cortex::backend::cuda
