// 2-D convolution on CUDA through cuDNN: forward, backward data and backward
// filter on NHWC activations.
//
// Our weights are HWIO; cuDNN's NHWC filter layout is OHWI, so the kernel
// transposes them on the way in (and dw on the way out): a few thousand
// elements against the millions of an activation. cuDNN pads symmetrically,
// so an asymmetric padding (Keras's "same" with an even kernel or stride)
// pads x explicitly. Each geometry gets a plan: descriptors plus the
// algorithms cudnnFind*Ex measured on first use, cached by a key of the
// shapes, parameters, dtype, math mode and device.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/cuda_libs.h"
#include "cortex/backends/kernels.h"
#include "cortex/core/profiler.h"

namespace cortex::backend::cuda {
namespace {

constexpr std::size_t kFindWorkspace = std::size_t{512} << 20;  // what an algorithm may ask for

struct Algo {
  bool ready = false;
  int algo = 0;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;
  std::size_t workspace = 0;
};

// Descriptors for one geometry; x is the (possibly padded) input. The conv
// descriptor's math type changes per pass, so a pass holds `mutex` from its
// tuning to its call (a plan is shared by every thread).
struct Plan {
  TensorDescriptor x, y;
  FilterDescriptor w;
  ConvolutionDescriptor conv;
  cudnnMathType_t base_math = CUDNN_DEFAULT_MATH;  // what each pass's Find starts from
  Algo fwd, bwd_data, bwd_filter;
  std::mutex mutex;
};

bool symmetric(const Conv2dParams& p) { return p.pad_top == p.pad_bottom && p.pad_left == p.pad_right; }

// A new plan: xs is the shape cuDNN sees (after explicit padding), ws OHWI, ys NHWC.
std::unique_ptr<Plan> make_plan(const Shape& xs, const Shape& ws, const Shape& ys, const Conv2dParams& p, DType dtype,
                                bool tf32, bool sym) {
  for (std::int64_t v : {xs[0], xs[1], xs[2], xs[3], ys[1], ys[2], ys[3], ws[1], ws[2]})
    if (v > 0x7fffffff) fail("conv2d on cuda handles sizes up to 2^31, got x ", shape_str(xs));
  if (numel(xs) > 0x7fffffff || numel(ys) > 0x7fffffff)  // cuDNN's tensor descriptors hold up to 2^31 elements
    fail("conv2d on cuda handles tensors of up to 2^31 elements, got x ", shape_str(xs), " and y ", shape_str(ys),
         " (split the batch)");
  auto plan = std::make_unique<Plan>();
  const cudnnDataType_t type = cudnn_type(dtype, "conv2d");
  auto i = [](std::int64_t v) { return static_cast<int>(v); };
  check_cudnn(cudnnSetTensor4dDescriptor(plan->x, CUDNN_TENSOR_NHWC, type, i(xs[0]), i(xs[3]), i(xs[1]), i(xs[2])),
              "cudnnSetTensor4dDescriptor (x)");
  check_cudnn(cudnnSetTensor4dDescriptor(plan->y, CUDNN_TENSOR_NHWC, type, i(ys[0]), i(ys[3]), i(ys[1]), i(ys[2])),
              "cudnnSetTensor4dDescriptor (y)");
  check_cudnn(cudnnSetFilter4dDescriptor(plan->w, type, CUDNN_TENSOR_NHWC, i(ws[0]), i(ws[3]), i(ws[1]), i(ws[2])),
              "cudnnSetFilter4dDescriptor");
  const cudnnDataType_t compute = dtype == DType::f64 ? CUDNN_DATA_DOUBLE : CUDNN_DATA_FLOAT;
  check_cudnn(cudnnSetConvolution2dDescriptor(plan->conv, sym ? i(p.pad_top) : 0, sym ? i(p.pad_left) : 0,
                                              i(p.stride_h), i(p.stride_w), i(p.dilation_h), i(p.dilation_w),
                                              CUDNN_CROSS_CORRELATION, compute),
              "cudnnSetConvolution2dDescriptor");
  check_cudnn(cudnnSetConvolutionGroupCount(plan->conv, i(p.groups)), "cudnnSetConvolutionGroupCount");
  // DEFAULT lets fp32 use TF32 tensor cores; bf16 reaches them only with TENSOR_OP; FMA keeps fp32 exact.
  plan->base_math = dtype == DType::bf16 ? CUDNN_TENSOR_OP_MATH : tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH;
  return plan;
}

// xs: the shape cuDNN sees (after explicit padding), ws: OHWI, ys: NHWC.
Plan& plan_for(const Shape& xs, const Shape& ws, const Shape& ys, const Conv2dParams& p, DType dtype, Device device) {
  const bool tf32 = cuda_math().conv_tf32 && dtype == DType::f32;
  const bool sym = symmetric(p);
  const std::string key = detail::cat(device.index, '|', dtype_name(dtype), '|', tf32, '|', shape_str(xs),
                                      shape_str(ws), shape_str(ys), '|', p.stride_h, ',', p.stride_w, ',',
                                      sym ? p.pad_top : 0, ',', sym ? p.pad_left : 0, ',', p.dilation_h, ',',
                                      p.dilation_w, ',', p.groups);
  return kept<Plan>(key, [&] { return make_plan(xs, ws, ys, p, dtype, tf32, sym); });
}

// Picks the fastest algorithm that ran, from cudnnFind*Ex's results (sorted by time).
template <typename Perf>
Algo pick(const Perf* results, int count, const char* what) {
  for (int k = 0; k < count; ++k)
    if (results[k].status == CUDNN_STATUS_SUCCESS)
      return {true, static_cast<int>(results[k].algo), results[k].mathType, results[k].memory};
  fail<DeviceError>(what, ": cuDNN found no algorithm for this convolution");
}


// A pass ready to run: the workspace of its algorithm, and the plan's lock.
struct Tuned {
  Tensor workspace;
  std::unique_lock<std::mutex> lock;
};

// The algorithm of `slot`: measured once with `find` (a cudnnFind*Ex call given
// the room for N results, the count, the results and a scratch area of
// kFindWorkspace bytes) from the plan's base math type, whatever pass ran
// before, and kept; sets the plan's math type for it and returns the workspace
// it runs with, with the plan locked until the caller's call is queued.
template <typename Perf, int N, typename Find>
Tuned tuned(Algo& slot, Plan& plan, Device dev, const char* what, Find find) {
  std::unique_lock<std::mutex> lock(plan.mutex);
  if (!slot.ready) {
    check_cudnn(cudnnSetConvolutionMathType(plan.conv, plan.base_math), "cudnnSetConvolutionMathType");
    Tensor ws = scratch(kFindWorkspace, dev);
    Perf perf[N];
    int count = 0;
    find(N, &count, perf, device_address(ws));
    slot = pick(perf, count, what);
  }
  check_cudnn(cudnnSetConvolutionMathType(plan.conv, slot.math), "cudnnSetConvolutionMathType");
  return {scratch(slot.workspace, dev), std::move(lock)};
}

// x padded explicitly when the padding is asymmetric (zeros around a copy).
Tensor padded_input(const Tensor& x, const Conv2dParams& p) {
  if (symmetric(p)) return x;
  const Shape& s = x.shape();
  Tensor xp = Tensor::empty({s[0], s[1] + p.pad_top + p.pad_bottom, s[2] + p.pad_left + p.pad_right, s[3]}, x.dtype(),
                            x.device());
  fill(xp, 0.0);
  Tensor interior = xp.as_strided(s, xp.strides(), p.pad_top * xp.strides()[1] + p.pad_left * xp.strides()[2]);
  copy(x, interior);
  return xp;
}

// HWIO (KH, KW, Cg, O) -> OHWI, contiguous.
Tensor to_ohwi(const Tensor& w) {
  const Shape& s = w.shape();
  Tensor out = Tensor::empty({s[3], s[0], s[1], s[2]}, w.dtype(), w.device());
  const Strides& st = w.strides();
  copy(w.as_strided({s[3], s[0], s[1], s[2]}, {st[3], st[0], st[1], st[2]}, w.offset()), out);
  return out;
}

Shape ohwi_shape(const Shape& hwio) { return {hwio[3], hwio[0], hwio[1], hwio[2]}; }

void check_geometry(const Tensor& x, const Shape& w, const Tensor& y, const Conv2dParams& p, const char* what) {
  if (x.dim() != 4 || w.size() != 4 || y.dim() != 4)
    fail<ShapeError>(what, " on cuda expects NHWC x, HWIO w and NHWC y, got ", shape_str(x.shape()), ", ",
                     shape_str(w), ", ", shape_str(y.shape()));
  if (!x.is_contiguous() || !y.is_contiguous()) fail<ShapeError>(what, " on cuda expects contiguous tensors");
  if (p.groups < 1 || x.shape()[3] != w[2] * p.groups || w[3] % p.groups != 0 || y.shape()[3] != w[3])
    fail<ShapeError>(what, " on cuda: x ", shape_str(x.shape()), ", w ", shape_str(w), " and y ",
                     shape_str(y.shape()), " do not fit groups=", p.groups);
}

}  // namespace

void conv2d(const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& y, const Conv2dParams& p) {
  check_geometry(x, w.shape(), y, p, "conv2d");
  if (y.numel() == 0) return;
  const Device dev = y.device();
  DeviceGuard guard(dev);
  const Tensor xp = padded_input(x, p);
  const Tensor wo = to_ohwi(w);
  Plan& plan = plan_for(xp.shape(), wo.shape(), y.shape(), p, x.dtype(), dev);
  cudnnHandle_t h = cudnn_handle(dev);
  const Tuned run = tuned<cudnnConvolutionFwdAlgoPerf_t, CUDNN_CONVOLUTION_FWD_ALGO_COUNT>(
      plan.fwd, plan, dev, "conv2d", [&](int n, int* count, auto* perf, void* find_ws) {
        check_cudnn(cudnnFindConvolutionForwardAlgorithmEx(h, plan.x, device_address(xp), plan.w, device_address(wo), plan.conv, plan.y,
                                                           device_address(y), n, count, perf, find_ws, kFindWorkspace),
                    "cudnnFindConvolutionForwardAlgorithmEx");
      });
  const CudnnScalars s;
  profiler::Scope timed("cudnnConvolutionForward");  // host time of the call (breakdown tables)
  check_cudnn(cudnnConvolutionForward(h, s.one(x.dtype()), plan.x, device_address(xp), plan.w, device_address(wo), plan.conv,
                                      static_cast<cudnnConvolutionFwdAlgo_t>(plan.fwd.algo), device_address(run.workspace),
                                      plan.fwd.workspace, s.zero(x.dtype()), plan.y, device_address(y)),
              "cudnnConvolutionForward");
  if (bias != nullptr) add_bias(y, *bias);
}

void conv2d_backward_data(const Tensor& dy, const Tensor& w, Tensor& dx, const Conv2dParams& p) {
  check_geometry(dx, w.shape(), dy, p, "conv2d_backward_data");
  if (dx.numel() == 0) return;
  const Device dev = dx.device();
  DeviceGuard guard(dev);
  const bool sym = symmetric(p);
  const Shape& s0 = dx.shape();
  Tensor dxp = sym ? dx
                   : Tensor::empty({s0[0], s0[1] + p.pad_top + p.pad_bottom, s0[2] + p.pad_left + p.pad_right, s0[3]},
                                   dx.dtype(), dev);
  if (dy.numel() == 0) {
    fill(dx, 0.0);
    return;
  }
  const Tensor wo = to_ohwi(w);
  Plan& plan = plan_for(dxp.shape(), wo.shape(), dy.shape(), p, dy.dtype(), dev);
  cudnnHandle_t h = cudnn_handle(dev);
  const Tuned run = tuned<cudnnConvolutionBwdDataAlgoPerf_t, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT>(
      plan.bwd_data, plan, dev, "conv2d_backward_data", [&](int n, int* count, auto* perf, void* find_ws) {
        check_cudnn(cudnnFindConvolutionBackwardDataAlgorithmEx(h, plan.w, device_address(wo), plan.y, device_address(dy), plan.conv,
                                                                plan.x, device_address(dxp), n, count, perf, find_ws,
                                                                kFindWorkspace),
                    "cudnnFindConvolutionBackwardDataAlgorithmEx");
      });
  const CudnnScalars s;
  profiler::Scope timed("cudnnConvolutionBackwardData");
  check_cudnn(cudnnConvolutionBackwardData(h, s.one(dy.dtype()), plan.w, device_address(wo), plan.y, device_address(dy), plan.conv,
                                           static_cast<cudnnConvolutionBwdDataAlgo_t>(plan.bwd_data.algo), device_address(run.workspace),
                                           plan.bwd_data.workspace, s.zero(dy.dtype()), plan.x, device_address(dxp)),
              "cudnnConvolutionBackwardData");
  if (!sym)
    copy(dxp.as_strided(s0, dxp.strides(), p.pad_top * dxp.strides()[1] + p.pad_left * dxp.strides()[2]), dx);
}

void conv2d_backward_weight(const Tensor& x, const Tensor& dy, Tensor& dw, Tensor* db, const Conv2dParams& p) {
  check_geometry(x, dw.shape(), dy, p, "conv2d_backward_weight");
  const Device dev = dw.device();
  DeviceGuard guard(dev);
  if (db != nullptr) sum_columns(dy, *db);
  if (dw.numel() == 0) return;
  if (dy.numel() == 0) {
    fill(dw, 0.0);
    return;
  }
  const Tensor xp = padded_input(x, p);
  Tensor dwo = Tensor::empty(ohwi_shape(dw.shape()), dw.dtype(), dev);
  Plan& plan = plan_for(xp.shape(), dwo.shape(), dy.shape(), p, x.dtype(), dev);
  cudnnHandle_t h = cudnn_handle(dev);
  const Tuned run = tuned<cudnnConvolutionBwdFilterAlgoPerf_t, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT>(
      plan.bwd_filter, plan, dev, "conv2d_backward_weight", [&](int n, int* count, auto* perf, void* find_ws) {
        check_cudnn(cudnnFindConvolutionBackwardFilterAlgorithmEx(h, plan.x, device_address(xp), plan.y, device_address(dy), plan.conv,
                                                                  plan.w, device_address(dwo), n, count, perf, find_ws,
                                                                  kFindWorkspace),
                    "cudnnFindConvolutionBackwardFilterAlgorithmEx");
      });
  const CudnnScalars s;
  profiler::Scope timed("cudnnConvolutionBackwardFilter");
  check_cudnn(cudnnConvolutionBackwardFilter(h, s.one(x.dtype()), plan.x, device_address(xp), plan.y, device_address(dy), plan.conv,
                                             static_cast<cudnnConvolutionBwdFilterAlgo_t>(plan.bwd_filter.algo),
                                             device_address(run.workspace), plan.bwd_filter.workspace, s.zero(x.dtype()), plan.w, device_address(dwo)),
              "cudnnConvolutionBackwardFilter");
  // OHWI -> HWIO: write dw through a permuted view of itself.
  const Shape& k = dw.shape();  // (KH, KW, Cg, O)
  Tensor dw_as_ohwi = dw.as_strided(ohwi_shape(k), {1, k[1] * k[2] * k[3], k[2] * k[3], k[3]}, dw.offset());
  copy(dwo, dw_as_ohwi);
}

}  // namespace cortex::backend::cuda
