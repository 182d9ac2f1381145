// Gather / scatter-add (embedding lookups, index_select and their gradients)
// and 2-D pooling on NHWC tensors, on CUDA.
//
// Pooling goes to cuDNN (pool.cpp) except where cuDNN cannot describe it:
// cuDNN pads symmetrically, and Keras's "same" pads bottom/right more. Those
// windows come here. The forward writes, for max pooling, the
// flat index h * W + w of each window's maximum (i32) into the workspace; the
// backward walks the input: each input cell sums the gradients of the windows
// that chose it (no atomics, so results are deterministic).
#include <cuda_runtime.h>

#include <cstdint>

#include "backends/cuda/cuda_common.h"
#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/device_math.cuh"
#include "cortex/backends/kernels.h"

namespace cortex::backend::cuda {
namespace {

#define GRID_STRIDE(i, n)                                                                          \
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); \
       i += static_cast<std::int64_t>(blockDim.x) * gridDim.x)

// ---- gather / scatter_add ----------------------------------------------------------------------

// The first out-of-range index seen (any one of them when several are), or the sentinel.
constexpr long long kNoBadIndex = INT64_MIN;

__device__ void note_bad(long long* bad, std::int64_t index) {
  atomicCAS(reinterpret_cast<unsigned long long*>(bad), static_cast<unsigned long long>(kNoBadIndex),
            static_cast<unsigned long long>(index));
}

template <typename T>
__global__ void gather_kernel(const T* x, const std::int64_t* index, T* out, std::int64_t n, std::int64_t M,
                              std::int64_t I, std::int64_t N, Indexer<2> ix, Indexer<1> xs, long long* bad) {
  // ix: (index, out) over (O, M, I); xs: x's strides as (O, N, I) with base offset.
  GRID_STRIDE(e, n) {
    std::int64_t off[2];
    ix.offsets(e, off);
    const std::int64_t j = index[off[0]];
    if (j < 0 || j >= N) {
      note_bad(bad, j);
      continue;
    }
    const std::int64_t i = e % I, o = e / (M * I);
    out[off[1]] = x[xs.base[0] + o * xs.strides[0][0] + j * xs.strides[0][1] + i * xs.strides[0][2]];
  }
}

template <typename T>
__global__ void scatter_add_kernel(const T* src, const std::int64_t* index, T* out, std::int64_t n, std::int64_t M,
                                   std::int64_t I, std::int64_t N, Indexer<2> ix, long long* bad) {
  GRID_STRIDE(e, n) {
    std::int64_t off[2];
    ix.offsets(e, off);
    const std::int64_t j = index[off[1]];
    if (j < 0 || j >= N) {
      note_bad(bad, j);
      continue;
    }
    const std::int64_t i = e % I, o = e / (M * I);
    atomicAdd(out + (o * N + j) * I + i, src[off[0]]);
  }
}

// A one-element i64 on the device holding kNoBadIndex; read back after the kernel.
Tensor bad_index_flag(Device device) {
  Tensor flag = Tensor::empty({1}, DType::i64, device);
  kernels(Backend::Cuda).fill(flag, static_cast<double>(kNoBadIndex));
  return flag;
}

void check_bad_index(const Tensor& flag, std::int64_t N, const char* what) {
  const std::int64_t bad = flag.to(Device::cpu()).to_vector<std::int64_t>()[0];
  if (bad != kNoBadIndex) fail<IndexError>(what, " on cuda: index ", bad, " is out of range [0, ", N, ")");
}

void expect_rank3(const Tensor& t, const char* what, const char* name) {
  if (t.dim() != 3) fail<ShapeError>(what, " on cuda expects ", name, " of rank 3, got shape ", shape_str(t.shape()));
}

// ---- pooling -----------------------------------------------------------------------------------

struct PoolGeo {
  std::int64_t N, H, W, C, OH, OW;
  int kh, kw, sh, sw, pt, pl;
};

// I: the index arithmetic's type, std::int32_t when the tensors have fewer than
// 2^31 elements (64-bit division dominated these kernels' time otherwise).
template <typename T, typename I>
__global__ void pool_kernel(const T* x, T* y, std::int32_t* ws, std::int64_t n, PoolGeo g, bool is_max) {
  using Acc = compute_t<T>;  // float for bf16
  GRID_STRIDE(e, n) {
    const I C = static_cast<I>(g.C), OW = static_cast<I>(g.OW), OH = static_cast<I>(g.OH);
    const I c = static_cast<I>(e) % C;
    I r = static_cast<I>(e) / C;
    const I ow = r % OW;
    r /= OW;
    const I oh = r % OH, b = r / OH;
    const T* plane = x + b * g.H * g.W * g.C + c;
    double sum = 0;
    int count = 0;
    std::int32_t best = -1;
    Acc best_v = Acc(0);
    for (int i = 0; i < g.kh; ++i) {
      const std::int64_t h = oh * g.sh - g.pt + i;
      if (h < 0 || h >= g.H) continue;
      for (int j = 0; j < g.kw; ++j) {
        const std::int64_t w = ow * g.sw - g.pl + j;
        if (w < 0 || w >= g.W) continue;
        const Acc v = convert<Acc>(plane[(h * g.W + w) * g.C]);
        if (is_max) {
          if (best < 0 || (!m_isnan(best_v) && (m_isnan(v) || v > best_v))) {
            best = static_cast<std::int32_t>(h * g.W + w);
            best_v = v;
          }
        } else {
          sum += static_cast<double>(v);
          ++count;
        }
      }
    }
    if (is_max) {
      y[e] = convert<T>(best_v);
      if (ws != nullptr) ws[e] = best;
    } else {
      y[e] = convert<T>(sum / count);
    }
  }
}

// Output rows/cols whose window covers input cell h: oh in [lo, hi].
template <typename I>
__device__ void covering(I h, int k, int s, int pad, I O, I& lo, I& hi) {
  const I hp = h + pad;  // position in the padded input
  lo = hp < k ? 0 : (hp - k) / s + 1;
  hi = hp / s;
  if (hi > O - 1) hi = O - 1;
}

template <typename T, typename I>
__global__ void pool_backward_kernel(const T* x, const T* dy, const std::int32_t* ws, T* dx, std::int64_t n, PoolGeo g,
                                     bool is_max) {
  using Acc = compute_t<T>;  // float for bf16
  GRID_STRIDE(e, n) {
    const I C = static_cast<I>(g.C), W = static_cast<I>(g.W), H = static_cast<I>(g.H);
    const I c = static_cast<I>(e) % C;
    I r = static_cast<I>(e) / C;
    const I w = r % W;
    r /= W;
    const I h = r % H, b = r / H;
    I oh0, oh1, ow0, ow1;
    covering<I>(h, g.kh, g.sh, g.pt, static_cast<I>(g.OH), oh0, oh1);
    covering<I>(w, g.kw, g.sw, g.pl, static_cast<I>(g.OW), ow0, ow1);
    const std::int32_t me = static_cast<std::int32_t>(h * W + w);
    double acc = 0;
    for (I oh = oh0; oh <= oh1; ++oh)
      for (I ow = ow0; ow <= ow1; ++ow) {
        const std::int64_t o = ((static_cast<std::int64_t>(b) * g.OH + oh) * g.OW + ow) * g.C + c;
        if (is_max) {
          std::int32_t best = -1;
          if (ws != nullptr) {
            best = ws[o];
          } else {  // recompute the window's maximum from x
            const T* plane = x + b * g.H * g.W * g.C + c;
            Acc best_v = Acc(0);
            for (int i = 0; i < g.kh; ++i) {
              const std::int64_t hh = oh * g.sh - g.pt + i;
              if (hh < 0 || hh >= g.H) continue;
              for (int j = 0; j < g.kw; ++j) {
                const std::int64_t ww = ow * g.sw - g.pl + j;
                if (ww < 0 || ww >= g.W) continue;
                const Acc v = convert<Acc>(plane[(hh * g.W + ww) * g.C]);
                if (best < 0 || (!m_isnan(best_v) && (m_isnan(v) || v > best_v))) {
                  best = static_cast<std::int32_t>(hh * g.W + ww);
                  best_v = v;
                }
              }
            }
          }
          if (best == me) acc += convert<double>(dy[o]);
        } else {
          const std::int64_t h0 = oh * g.sh - g.pt, w0 = ow * g.sw - g.pl;
          const std::int64_t rows = min(h0 + g.kh, g.H) - max(h0, std::int64_t{0});
          const std::int64_t cols = min(w0 + g.kw, g.W) - max(w0, std::int64_t{0});
          acc += convert<double>(dy[o]) / static_cast<double>(rows * cols);
        }
      }
    dx[e] = convert<T>(acc);
  }
}

// Max pooling whose windows do not overlap (stride >= kernel, the usual 2x2/2):
// each output sends its gradient to the one input its workspace names, so the
// backward is a zero fill plus one write per output -- no window arithmetic.
template <typename T>
__global__ void pool_backward_scatter_kernel(const T* dy, const std::int32_t* ws, T* dx, std::int32_t n, std::int32_t C,
                                             std::int32_t plane_out, std::int32_t plane_in) {
  for (std::int32_t e = blockIdx.x * blockDim.x + threadIdx.x; e < n; e += blockDim.x * gridDim.x) {
    const std::int32_t c = e % C, b = e / (plane_out * C);
    dx[(static_cast<std::int64_t>(b) * plane_in + ws[e]) * C + c] = dy[e];
  }
}

PoolGeo pool_geometry(const Pool2dParams& p, const Shape& x, const Shape& y, const char* what) {
  if (x.size() != 4 || y.size() != 4)
    fail<ShapeError>(what, " on cuda expects rank-4 NHWC x and y, got ", shape_str(x), " and ", shape_str(y));
  if (p.kernel_h < 1 || p.kernel_w < 1 || p.stride_h < 1 || p.stride_w < 1 || p.pad_top < 0 || p.pad_bottom < 0 ||
      p.pad_left < 0 || p.pad_right < 0)
    fail<ValueError>(what, " on cuda expects kernel sizes and strides >= 1 and paddings >= 0");
  const std::int64_t in_h = x[1] + p.pad_top + p.pad_bottom, in_w = x[2] + p.pad_left + p.pad_right;
  const Shape want{x[0], in_h < p.kernel_h ? -1 : (in_h - p.kernel_h) / p.stride_h + 1,
                   in_w < p.kernel_w ? -1 : (in_w - p.kernel_w) / p.stride_w + 1, x[3]};
  if (y != want) fail<ShapeError>(what, " on cuda: x ", shape_str(x), " gives y ", shape_str(want), ", got ", shape_str(y));
  if (x[1] * x[2] > 0x7fffffff) fail(what, " on cuda handles planes of up to 2^31 cells, got ", x[1], "x", x[2]);
  // A window entirely inside the padding has nothing to pool (the ref backend's error too).
  for (std::int64_t oh = 0; oh < y[1]; ++oh)
    if (oh * p.stride_h - p.pad_top + p.kernel_h <= 0 || oh * p.stride_h - p.pad_top >= x[1])
      fail<ValueError>(what, " on cuda: the window of output row ", oh, " lies entirely in the padding");
  for (std::int64_t ow = 0; ow < y[2]; ++ow)
    if (ow * p.stride_w - p.pad_left + p.kernel_w <= 0 || ow * p.stride_w - p.pad_left >= x[2])
      fail<ValueError>(what, " on cuda: the window of output column ", ow, " lies entirely in the padding");
  return {x[0], x[1], x[2], x[3], y[1], y[2], static_cast<int>(p.kernel_h), static_cast<int>(p.kernel_w),
          static_cast<int>(p.stride_h), static_cast<int>(p.stride_w), static_cast<int>(p.pad_top),
          static_cast<int>(p.pad_left)};
}

}  // namespace

void gather(const Tensor& x, const Tensor& index, Tensor& out) {
  expect_rank3(x, "gather", "x");
  expect_rank3(index, "gather", "index");
  expect_same_dtype(index, DType::i64, "gather", "index");
  const std::int64_t O = index.shape()[0], M = index.shape()[1], I = index.shape()[2], N = x.shape()[1];
  if (x.shape() != Shape{O, N, I} || out.shape() != Shape{O, M, I})
    fail<ShapeError>("gather on cuda: index ", shape_str(index.shape()), " does not fit x ", shape_str(x.shape()),
                     " and out ", shape_str(out.shape()));
  expect_same_dtype(out, x.dtype(), "gather", "out");
  const std::int64_t n = out.numel();
  if (n == 0) return;
  DeviceGuard guard(out.device());
  Tensor flag = bad_index_flag(out.device());
  const Indexer<2> ix = make_indexer<2>(out.shape(), {&index, &out}, "gather");
  Indexer<1> xs;
  xs.rank = 3;
  for (int d = 0; d < 3; ++d) xs.strides[0][d] = x.strides()[d];
  xs.base[0] = x.offset();
  device_visit_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    gather_kernel<T><<<blocks_for(n), kThreads, 0, stream(out.device())>>>(
        static_cast<const T*>(x.storage()->data()), static_cast<const std::int64_t*>(index.storage()->data()),
        static_cast<T*>(out.storage()->data()), n, M, I, N, ix, xs, first<long long>(flag));
  });
  check_launch("gather");
  check_bad_index(flag, N, "gather");
}

void scatter_add(const Tensor& src, const Tensor& index, Tensor& out) {
  expect_rank3(out, "scatter_add", "out");
  expect_rank3(index, "scatter_add", "index");
  expect_same_dtype(index, DType::i64, "scatter_add", "index");
  const std::int64_t O = index.shape()[0], M = index.shape()[1], I = index.shape()[2], N = out.shape()[1];
  if (src.shape() != index.shape() || out.shape() != Shape{O, N, I} || !out.is_contiguous())
    fail<ShapeError>("scatter_add on cuda: src ", shape_str(src.shape()), " and index ", shape_str(index.shape()),
                     " do not fit a contiguous out ", shape_str(out.shape()));
  expect_same_dtype(out, src.dtype(), "scatter_add", "out");
  const std::int64_t n = src.numel();
  if (n == 0) return;
  DeviceGuard guard(out.device());
  Tensor flag = bad_index_flag(out.device());
  const Indexer<2> ix = make_indexer<2>(src.shape(), {&src, &index}, "scatter_add");
  device_visit_float(src.dtype(), "scatter_add", [&](auto tag) {
    using T = decltype(tag);
    scatter_add_kernel<T><<<blocks_for(n), kThreads, 0, stream(out.device())>>>(
        static_cast<const T*>(src.storage()->data()), static_cast<const std::int64_t*>(index.storage()->data()),
        first<T>(out), n, M, I, N, ix, first<long long>(flag));
  });
  check_launch("scatter_add");
  check_bad_index(flag, N, "scatter_add");
}

void check_pool2d(const Pool2dParams& p, const Shape& x, const Shape& y, const char* what) {
  pool_geometry(p, x, y, what);
}

void pool2d_direct(const Pool2dParams& p, const Tensor& x, Tensor& y, Tensor* workspace) {
  const PoolGeo g = pool_geometry(p, x.shape(), y.shape(), "pool2d");
  const bool is_max = p.kind == PoolKind::max;
  const std::int64_t n = y.numel();
  if (n == 0) return;
  DeviceGuard guard(y.device());
  std::int32_t* ws = nullptr;
  if (is_max && workspace != nullptr) {
    *workspace = Tensor::empty(y.shape(), DType::i32, y.device());
    ws = first<std::int32_t>(*workspace);
  }
  device_visit_float_or_bf16(x.dtype(), "pool2d", [&](auto tag) {
    using T = decltype(tag);
    if (x.numel() < 0x7fffffff)
      pool_kernel<T, std::int32_t><<<blocks_for(n), kThreads, 0, stream(y.device())>>>(first<const T>(x), first<T>(y),
                                                                                     ws, n, g, is_max);
    else
      pool_kernel<T, std::int64_t><<<blocks_for(n), kThreads, 0, stream(y.device())>>>(first<const T>(x), first<T>(y),
                                                                                     ws, n, g, is_max);
  });
  check_launch("pool2d");
}

void pool2d_backward_direct(const Pool2dParams& p, const Tensor& x, const Tensor& dy, const Tensor& workspace,
                             Tensor& dx) {
  const PoolGeo g = pool_geometry(p, x.shape(), dy.shape(), "pool2d_backward");
  const bool is_max = p.kind == PoolKind::max;
  const std::int32_t* ws = nullptr;
  if (is_max && workspace.defined()) {
    if (workspace.dtype() != DType::i32 || workspace.shape() != dy.shape() || !workspace.device().is_cuda())
      fail<ValueError>("max-pool backward on cuda expects the i32 workspace of the cuda forward, shaped ",
                       shape_str(dy.shape()), ", got ", dtype_name(workspace.dtype()), " ",
                       shape_str(workspace.shape()), " on ", workspace.device().str());
    ws = first<const std::int32_t>(workspace);
  }
  const std::int64_t n = dx.numel();
  if (n == 0) return;
  DeviceGuard guard(dx.device());
  const bool disjoint = p.stride_h >= p.kernel_h && p.stride_w >= p.kernel_w;
  device_visit_float_or_bf16(x.dtype(), "pool2d_backward", [&](auto tag) {
    using T = decltype(tag);
    if (ws != nullptr && disjoint && n < 0x7fffffff) {
      check(cudaMemsetAsync(first<T>(dx), 0, static_cast<std::size_t>(n) * sizeof(T), stream(dx.device())),
            "cudaMemsetAsync");
      const std::int64_t outs = dy.numel();
      if (outs > 0)
        pool_backward_scatter_kernel<T><<<blocks_for(outs), kThreads, 0, stream(dx.device())>>>(
            first<const T>(dy), ws, first<T>(dx), static_cast<std::int32_t>(outs), static_cast<std::int32_t>(g.C),
            static_cast<std::int32_t>(g.OH * g.OW), static_cast<std::int32_t>(g.H * g.W));
    } else if (x.numel() < 0x7fffffff)
      pool_backward_kernel<T, std::int32_t><<<blocks_for(n), kThreads, 0, stream(dx.device())>>>(
          first<const T>(x), first<const T>(dy), ws, first<T>(dx), n, g, is_max);
    else
      pool_backward_kernel<T, std::int64_t><<<blocks_for(n), kThreads, 0, stream(dx.device())>>>(
          first<const T>(x), first<const T>(dy), ws, first<T>(dx), n, g, is_max);
  });
  check_launch("pool2d_backward");
}

}  // namespace cortex::backend::cuda
