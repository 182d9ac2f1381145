// Element-wise kernels on CUDA: converting strided copy (and the host <->
// device transfers around it), unary ops and their gradients, binary ops with
// broadcasting (stride-0 operands), where, and Bernoulli draws (dropout masks).
// Every kernel is grid-stride over the output's elements. Dense operands
// (contiguous, one shape, aligned) take 16-byte vector loads and stores;
// others get their offsets from an Indexer whose contiguous axes are merged.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <string>

#include "backends/cuda/cuda_common.h"
#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/device_math.cuh"
#include "cortex/backends/kernels.h"

namespace cortex::backend::cuda {
namespace {

#define GRID_STRIDE(i, n)                                                                          \
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); \
       i += static_cast<std::int64_t>(blockDim.x) * gridDim.x)

// ---- dense operands: vector loads ---------------------------------------------------------------
//
// When every operand is contiguous, of the output's shape (no broadcast, no
// view) and 16-byte aligned, a thread moves V elements per operand with one
// 16-byte load or store (V = 4 floats, 8 bf16, 2 doubles); the Indexer path
// serves everything else.

template <typename T, int V>
struct alignas(sizeof(T) * V) Pack {
  T v[V];
};

template <typename T>
constexpr int kVec = 16 / sizeof(T);

// Calls pack(i) for each whole V-element pack i, then one(i) for the tail elements.
template <int V, typename PackFn, typename OneFn>
__device__ void dense_loop(std::int64_t n, PackFn pack, OneFn one) {
  const std::int64_t packs = n / V;
  GRID_STRIDE(i, packs) pack(i);
  for (std::int64_t i = packs * V + static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(blockDim.x) * gridDim.x)
    one(i);
}

bool aligned16(const Tensor& t) {
  return reinterpret_cast<std::uintptr_t>(device_address(t)) % 16 == 0;
}

// Every operand contiguous, shaped like out, 16-byte aligned.
bool dense(const Tensor& out, std::initializer_list<const Tensor*> operands) {
  if (!out.is_contiguous() || !aligned16(out)) return false;
  for (const Tensor* t : operands)
    if (t->shape() != out.shape() || !t->is_contiguous() || !aligned16(*t)) return false;
  return true;
}

unsigned dense_blocks(std::int64_t n, int V) { return blocks_for(std::max<std::int64_t>(1, n / V)); }

// ---- copy -------------------------------------------------------------------------------------

template <typename To, typename From>
__global__ void copy_kernel(const From* src, To* dst, std::int64_t n, Indexer<2> ix) {
  GRID_STRIDE(i, n) {
    std::int64_t off[2];
    ix.offsets(i, off);
    dst[off[1]] = convert<To>(src[off[0]]);
  }
}

// A converting copy of dense operands (V elements of each per thread).
template <typename To, typename From>
__global__ void copy_dense_kernel(const From* src, To* dst, std::int64_t n) {
  constexpr int V = 16 / (sizeof(From) > sizeof(To) ? sizeof(From) : sizeof(To));
  dense_loop<V>(
      n,
      [&](std::int64_t i) {
        const Pack<From, V> in = reinterpret_cast<const Pack<From, V>*>(src)[i];
        Pack<To, V> out;
#pragma unroll
        for (int k = 0; k < V; ++k) out.v[k] = convert<To>(in.v[k]);
        reinterpret_cast<Pack<To, V>*>(dst)[i] = out;
      },
      [&](std::int64_t i) { dst[i] = convert<To>(src[i]); });
}

// src, dst: on one CUDA device, one shape, any dtypes and strides.
void copy_on_device(const Tensor& src, Tensor& dst) {
  const std::int64_t n = dst.numel();
  if (n == 0) return;
  DeviceGuard guard(dst.device());
  // A plain memcpy, or a vectorised conversion (src and dst never overlap: the Kernels::copy contract).
  if (dense(dst, {&src})) {
    if (src.dtype() == dst.dtype()) {
      check(cudaMemcpyAsync(device_address(dst), device_address(src),
                            static_cast<std::size_t>(n) * element_size(src.dtype()), cudaMemcpyDeviceToDevice,
                            stream(dst.device())),
            "cudaMemcpyAsync (device to device)");
      return;
    }
    device_visit_dtype(src.dtype(), [&](auto s) {
      using From = decltype(s);
      device_visit_dtype(dst.dtype(), [&](auto d) {
        using To = decltype(d);
        constexpr int V = 16 / (sizeof(From) > sizeof(To) ? sizeof(From) : sizeof(To));
        copy_dense_kernel<To, From><<<dense_blocks(n, V), kThreads, 0, stream(dst.device())>>>(
            first<const From>(src), first<To>(dst), n);
      });
    });
    check_launch("copy kernel");
    return;
  }
  const Indexer<2> ix = make_indexer<2>(dst.shape(), {&src, &dst}, "copy");
  device_visit_dtype(src.dtype(), [&](auto s) {
    using From = decltype(s);
    device_visit_dtype(dst.dtype(), [&](auto d) {
      using To = decltype(d);
      copy_kernel<To, From><<<blocks_for(n), kThreads, 0, stream(dst.device())>>>(
          static_cast<const From*>(src.storage()->data()), static_cast<To*>(dst.storage()->data()), n, ix);
    });
  });
  check_launch("copy kernel");
}

std::size_t nbytes_of(const Tensor& t) { return static_cast<std::size_t>(t.numel()) * element_size(t.dtype()); }

// A contiguous tensor shaped like `t` with `dtype` on `device`.
Tensor like(const Tensor& t, DType dtype, Device device) { return Tensor::empty(t.shape(), dtype, device); }

void host_copy(const Tensor& src, Tensor& dst) { kernels(Backend::Cpu).copy(src, dst); }

// ---- unary ------------------------------------------------------------------------------------

constexpr double kSeluAlpha = 1.6732632423543772;
constexpr double kSeluScale = 1.0507009873554805;
constexpr double kSoftplusThreshold = 20.0;
constexpr double kSqrt1_2 = 0.70710678118654752440;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;

template <typename T>
__device__ T sigmoid(T x) {
  if (x >= T(0)) return T(1) / (T(1) + m_exp(-x));
  const T e = m_exp(x);
  return e / (T(1) + e);
}

template <typename T>
__device__ T unary_scalar(UnaryOp op, T x, T a, T b) {
  if (m_isnan(x)) return x;
  switch (op) {
    case UnaryOp::neg: return -x;
    case UnaryOp::exp: return m_exp(x);
    case UnaryOp::log: return m_log(x);
    case UnaryOp::sqrt: return m_sqrt(x);
    case UnaryOp::rsqrt: return T(1) / m_sqrt(x);
    case UnaryOp::abs: return m_abs(x);
    case UnaryOp::square: return x * x;
    case UnaryOp::sign: return x > T(0) ? T(1) : x < T(0) ? T(-1) : T(0);
    case UnaryOp::relu: return x > T(0) ? x : T(0);
    case UnaryOp::leaky_relu: return x > T(0) ? x : a * x;
    case UnaryOp::elu: return x > T(0) ? x : a * m_expm1(x);
    case UnaryOp::selu: return T(kSeluScale) * (x > T(0) ? x : T(kSeluAlpha) * m_expm1(x));
    case UnaryOp::sigmoid: return sigmoid(x);
    case UnaryOp::tanh: return m_tanh(x);
    case UnaryOp::gelu: return x * T(0.5) * (T(1) + m_erf(x * T(kSqrt1_2)));
    case UnaryOp::softplus: return x > T(kSoftplusThreshold) ? x : m_log1p(m_exp(x));
    case UnaryOp::silu: return x * sigmoid(x);
    case UnaryOp::clamp: return x < a ? a : (x > b ? b : x);
  }
  return x;
}

template <typename T>
__device__ T unary_grad(UnaryOp op, T x, T y, T dy, T a, T b) {
  switch (op) {
    case UnaryOp::neg: return -dy;
    case UnaryOp::exp: return dy * y;
    case UnaryOp::log: return dy / x;
    case UnaryOp::sqrt: return dy * T(0.5) / y;
    case UnaryOp::rsqrt: return T(-0.5) * dy * y * y * y;
    case UnaryOp::abs: return x > T(0) ? dy : x < T(0) ? -dy : T(0);
    case UnaryOp::square: return dy * T(2) * x;
    case UnaryOp::sign: return T(0);
    case UnaryOp::relu: return x > T(0) ? dy : T(0);
    case UnaryOp::leaky_relu: return x > T(0) ? dy : dy * a;
    case UnaryOp::elu: return x > T(0) ? dy : dy * (y + a);
    case UnaryOp::selu: return x > T(0) ? dy * T(kSeluScale) : dy * T(kSeluScale * kSeluAlpha) * m_exp(x);
    case UnaryOp::sigmoid: return dy * y * (T(1) - y);
    case UnaryOp::tanh: return dy * (T(1) - y * y);
    case UnaryOp::gelu:
      return dy * (T(0.5) * (T(1) + m_erf(x * T(kSqrt1_2))) + x * T(kInvSqrt2Pi) * m_exp(T(-0.5) * x * x));
    case UnaryOp::softplus: return dy * sigmoid(x);
    case UnaryOp::silu: {
      const T s = sigmoid(x);
      return dy * (s + x * s * (T(1) - s));
    }
    case UnaryOp::clamp: return (a <= x && x <= b) ? dy : T(0);
  }
  return dy;
}

// T is the stored type, C = compute_t<T> the one the math runs in (float for bf16).
template <typename T, typename C = compute_t<T>>
__global__ void unary_kernel(UnaryOp op, const T* x, T* out, std::int64_t n, Indexer<2> ix, C a, C b) {
  GRID_STRIDE(i, n) {
    std::int64_t off[2];
    ix.offsets(i, off);
    out[off[1]] = convert<T>(unary_scalar<C>(op, convert<C>(x[off[0]]), a, b));
  }
}

template <typename T, typename C = compute_t<T>>
__global__ void unary_backward_kernel(UnaryOp op, const T* x, const T* y, const T* dy, T* dx, std::int64_t n,
                                      Indexer<4> ix, C a, C b) {
  GRID_STRIDE(i, n) {
    std::int64_t off[4];
    ix.offsets(i, off);
    dx[off[3]] =
        convert<T>(unary_grad<C>(op, convert<C>(x[off[0]]), convert<C>(y[off[1]]), convert<C>(dy[off[2]]), a, b));
  }
}

template <typename T, typename C = compute_t<T>>
__global__ void unary_dense_kernel(UnaryOp op, const T* x, T* out, std::int64_t n, C a, C b) {
  constexpr int V = kVec<T>;
  dense_loop<V>(
      n,
      [&](std::int64_t i) {
        const Pack<T, V> in = reinterpret_cast<const Pack<T, V>*>(x)[i];
        Pack<T, V> o;
#pragma unroll
        for (int k = 0; k < V; ++k) o.v[k] = convert<T>(unary_scalar<C>(op, convert<C>(in.v[k]), a, b));
        reinterpret_cast<Pack<T, V>*>(out)[i] = o;
      },
      [&](std::int64_t i) { out[i] = convert<T>(unary_scalar<C>(op, convert<C>(x[i]), a, b)); });
}

template <typename T, typename C = compute_t<T>>
__global__ void unary_backward_dense_kernel(UnaryOp op, const T* x, const T* y, const T* dy, T* dx, std::int64_t n,
                                            C a, C b) {
  constexpr int V = kVec<T>;
  dense_loop<V>(
      n,
      [&](std::int64_t i) {
        const Pack<T, V> xp = reinterpret_cast<const Pack<T, V>*>(x)[i];
        const Pack<T, V> yp = reinterpret_cast<const Pack<T, V>*>(y)[i];
        const Pack<T, V> gp = reinterpret_cast<const Pack<T, V>*>(dy)[i];
        Pack<T, V> o;
#pragma unroll
        for (int k = 0; k < V; ++k)
          o.v[k] = convert<T>(
              unary_grad<C>(op, convert<C>(xp.v[k]), convert<C>(yp.v[k]), convert<C>(gp.v[k]), a, b));
        reinterpret_cast<Pack<T, V>*>(dx)[i] = o;
      },
      [&](std::int64_t i) {
        dx[i] = convert<T>(unary_grad<C>(op, convert<C>(x[i]), convert<C>(y[i]), convert<C>(dy[i]), a, b));
      });
}

// ---- binary, where ----------------------------------------------------------------------------

template <typename T>
__device__ T binary_scalar(BinaryOp op, T a, T b) {
  switch (op) {
    case BinaryOp::add: return a + b;
    case BinaryOp::sub: return a - b;
    case BinaryOp::mul: return a * b;
    case BinaryOp::div: return a / b;
    case BinaryOp::pow: return m_pow(a, b);
    case BinaryOp::maximum: return m_isnan(a) ? a : m_isnan(b) ? b : (a < b ? b : a);
    case BinaryOp::minimum: return m_isnan(a) ? a : m_isnan(b) ? b : (b < a ? b : a);
    default: return a;
  }
}

template <typename T>
__device__ bool compare_scalar(BinaryOp op, T a, T b) {
  switch (op) {
    case BinaryOp::eq: return a == b;
    case BinaryOp::ne: return a != b;
    case BinaryOp::lt: return a < b;
    case BinaryOp::le: return a <= b;
    case BinaryOp::gt: return a > b;
    case BinaryOp::ge: return a >= b;
    default: return false;
  }
}

template <typename T, typename C = compute_t<T>>
__global__ void binary_kernel(BinaryOp op, const T* a, const T* b, T* out, std::int64_t n, Indexer<3> ix) {
  GRID_STRIDE(i, n) {
    std::int64_t off[3];
    ix.offsets(i, off);
    out[off[2]] = convert<T>(binary_scalar<C>(op, convert<C>(a[off[0]]), convert<C>(b[off[1]])));
  }
}

template <typename T, typename C = compute_t<T>>
__global__ void binary_dense_kernel(BinaryOp op, const T* a, const T* b, T* out, std::int64_t n) {
  constexpr int V = kVec<T>;
  dense_loop<V>(
      n,
      [&](std::int64_t i) {
        const Pack<T, V> ap = reinterpret_cast<const Pack<T, V>*>(a)[i];
        const Pack<T, V> bp = reinterpret_cast<const Pack<T, V>*>(b)[i];
        Pack<T, V> o;
#pragma unroll
        for (int k = 0; k < V; ++k)
          o.v[k] = convert<T>(binary_scalar<C>(op, convert<C>(ap.v[k]), convert<C>(bp.v[k])));
        reinterpret_cast<Pack<T, V>*>(out)[i] = o;
      },
      [&](std::int64_t i) { out[i] = convert<T>(binary_scalar<C>(op, convert<C>(a[i]), convert<C>(b[i]))); });
}

template <typename T, typename C = compute_t<T>>
__global__ void compare_kernel(BinaryOp op, const T* a, const T* b, bool* out, std::int64_t n, Indexer<3> ix) {
  GRID_STRIDE(i, n) {
    std::int64_t off[3];
    ix.offsets(i, off);
    out[off[2]] = compare_scalar<C>(op, convert<C>(a[off[0]]), convert<C>(b[off[1]]));
  }
}

template <typename T>
__global__ void where_kernel(const bool* cond, const T* a, const T* b, T* out, std::int64_t n, Indexer<4> ix) {
  GRID_STRIDE(i, n) {
    std::int64_t off[4];
    ix.offsets(i, off);
    out[off[3]] = cond[off[0]] ? a[off[1]] : b[off[2]];
  }
}

// ---- random -----------------------------------------------------------------------------------

template <typename T>
__global__ void bernoulli_kernel(T* out, std::int64_t n, double p, compute_t<T> scale_c, std::uint64_t seed,
                                 std::uint64_t first) {
  const T scale = convert<T>(scale_c), zero = convert<T>(0.0f);
  const std::int64_t blocks = (n + 3) / 4;
  GRID_STRIDE(blk, blocks) {
    std::uint32_t w[4];
    philox4x32_10(seed, first + static_cast<std::uint64_t>(blk), w);
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      const std::int64_t i = blk * 4 + k;
      if (i < n) out[i] = (w[k] >> 8) * (1.0 / 16777216.0) < p ? scale : zero;
    }
  }
}

template <typename T>
const T* cptr(const Tensor& t) {
  return static_cast<const T*>(t.storage()->data());
}
template <typename T>
T* mptr(Tensor& t) {
  return static_cast<T*>(t.storage()->data());
}

}  // namespace

void copy(const Tensor& src, Tensor& dst) {
  if (src.shape() != dst.shape())
    fail<ShapeError>("copy on cuda expects tensors of one shape, got src ", shape_str(src.shape()), " and dst ",
                     shape_str(dst.shape()));
  if (src.numel() == 0) return;
  const Device from = src.device(), to = dst.device();
  if (from.is_cuda() && to.is_cuda()) {
    if (from.index == to.index) return copy_on_device(src, dst);
    // Between GPUs: through a contiguous buffer of src's dtype on the destination.
    Tensor packed = src.is_contiguous() ? src : like(src, src.dtype(), from);
    if (!src.is_contiguous()) copy_on_device(src, packed);
    Tensor landed = like(src, src.dtype(), to);
    DeviceGuard guard(to);
    synchronize(from);
    check(cudaMemcpyPeerAsync(device_address(landed), to.index, device_address(packed), from.index, nbytes_of(src),
                              stream(to)),
          "cudaMemcpyPeerAsync");
    // packed is read on to's stream but freed (or next written) in from's order: wait for the copy.
    synchronize(to);
    return copy_on_device(landed, dst);
  }
  if (from.is_cpu() && to.is_cuda()) {
    // Host side made contiguous in src's dtype, one transfer, then the device converts and scatters.
    Tensor host = src;
    if (!src.is_contiguous()) {
      host = like(src, src.dtype(), Device::cpu());
      host_copy(src, host);
    }
    const bool direct = dst.is_contiguous() && dst.dtype() == src.dtype();
    Tensor staged = direct ? dst : like(src, src.dtype(), to);
    copy_host_to_device(device_address(staged), device_address(host), nbytes_of(src), to);
    if (!direct) copy_on_device(staged, dst);
    return;
  }
  if (from.is_cuda() && to.is_cpu()) {
    const bool direct = dst.is_contiguous() && dst.dtype() == src.dtype() && src.is_contiguous();
    Tensor packed = src;
    if (!direct) {  // convert on the device into dst's dtype, contiguous
      packed = like(src, dst.dtype(), from);
      copy_on_device(src, packed);
    }
    Tensor host = direct ? dst : like(src, dst.dtype(), Device::cpu());
    DeviceGuard guard(from);
    check(cudaMemcpyAsync(device_address(host), device_address(packed), nbytes_of(packed), cudaMemcpyDeviceToHost,
                          stream(from)),
          "cudaMemcpyAsync (device to host)");
    synchronize(from);  // the host reads it next
    if (!direct) host_copy(host, dst);
    return;
  }
  fail<DeviceError>("copy on cuda got no CUDA tensor: src on ", from.str(), ", dst on ", to.str());
}

void unary(UnaryOp op, const Tensor& x, Tensor& out, const UnaryParams& p) {
  const std::string what = std::string("unary ") + unary_name(op);
  expect_same_dtype(out, x.dtype(), what.c_str(), "out");
  const std::int64_t n = out.numel();
  if (n == 0) return;
  DeviceGuard guard(out.device());
  const bool vec = dense(out, {&x});  // the strided path alone needs the indexer (built per call)
  device_visit_float_or_bf16(x.dtype(), what.c_str(), [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    if (vec)
      unary_dense_kernel<T><<<dense_blocks(n, kVec<T>), kThreads, 0, stream(out.device())>>>(
          op, first<const T>(x), first<T>(out), n, C(p.a), C(p.b));
    else
      unary_kernel<T><<<blocks_for(n), kThreads, 0, stream(out.device())>>>(
          op, cptr<T>(x), mptr<T>(out), n, make_indexer<2>(out.shape(), {&x, &out}, what.c_str()), C(p.a), C(p.b));
  });
  check_launch(what.c_str());
}

void unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx,
                    const UnaryParams& p) {
  const std::string what = std::string("unary_backward ") + unary_name(op);
  for (const Tensor* t : std::initializer_list<const Tensor*>{&y, &dy, &dx}) expect_same_dtype(*t, x.dtype(), what.c_str(), "every operand");
  const std::int64_t n = dx.numel();
  if (n == 0) return;
  DeviceGuard guard(dx.device());
  const bool vec = dense(dx, {&x, &y, &dy});
  device_visit_float_or_bf16(x.dtype(), what.c_str(), [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    if (vec)
      unary_backward_dense_kernel<T><<<dense_blocks(n, kVec<T>), kThreads, 0, stream(dx.device())>>>(
          op, first<const T>(x), first<const T>(y), first<const T>(dy), first<T>(dx), n, C(p.a), C(p.b));
    else
      unary_backward_kernel<T><<<blocks_for(n), kThreads, 0, stream(dx.device())>>>(
          op, cptr<T>(x), cptr<T>(y), cptr<T>(dy), mptr<T>(dx), n,
          make_indexer<4>(dx.shape(), {&x, &y, &dy, &dx}, what.c_str()), C(p.a), C(p.b));
  });
  check_launch(what.c_str());
}

void binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out) {
  const std::string what = std::string("binary ") + binary_name(op);
  expect_same_dtype(b, a.dtype(), what.c_str(), "b");
  expect_same_dtype(out, is_comparison(op) ? DType::boolean : a.dtype(), what.c_str(), "out");
  const std::int64_t n = out.numel();
  if (n == 0) return;
  DeviceGuard guard(out.device());
  cudaStream_t s = stream(out.device());
  const bool vec = !is_comparison(op) && dense(out, {&a, &b});
  device_visit_float_or_bf16(a.dtype(), what.c_str(), [&](auto tag) {
    using T = decltype(tag);
    if (vec) {
      binary_dense_kernel<T><<<dense_blocks(n, kVec<T>), kThreads, 0, s>>>(op, first<const T>(a), first<const T>(b),
                                                                             first<T>(out), n);
      return;
    }
    const Indexer<3> ix = make_indexer<3>(out.shape(), {&a, &b, &out}, what.c_str());
    if (is_comparison(op))
      compare_kernel<T><<<blocks_for(n), kThreads, 0, s>>>(op, cptr<T>(a), cptr<T>(b), mptr<bool>(out), n, ix);
    else
      binary_kernel<T><<<blocks_for(n), kThreads, 0, s>>>(op, cptr<T>(a), cptr<T>(b), mptr<T>(out), n, ix);
  });
  check_launch(what.c_str());
}

void where(const Tensor& cond, const Tensor& a, const Tensor& b, Tensor& out) {
  expect_same_dtype(cond, DType::boolean, "where", "cond");
  expect_same_dtype(a, out.dtype(), "where", "a");
  expect_same_dtype(b, out.dtype(), "where", "b");
  const std::int64_t n = out.numel();
  if (n == 0) return;
  DeviceGuard guard(out.device());
  const Indexer<4> ix = make_indexer<4>(out.shape(), {&cond, &a, &b, &out}, "where");
  device_visit_dtype(out.dtype(), [&](auto tag) {
    using T = decltype(tag);
    where_kernel<T><<<blocks_for(n), kThreads, 0, stream(out.device())>>>(cptr<bool>(cond), cptr<T>(a),
                                                                          cptr<T>(b), mptr<T>(out), n, ix);
  });
  check_launch("where");
}

void bernoulli(Tensor& out, double p, double scale, std::uint64_t seed, std::uint64_t first_block) {
  if (!out.is_contiguous()) fail("bernoulli on cuda expects a contiguous output, got strides ", shape_str(out.strides()));
  const std::int64_t n = out.numel();
  if (n == 0) return;
  DeviceGuard guard(out.device());
  device_visit_float_or_bf16(out.dtype(), "bernoulli", [&](auto tag) {
    using T = decltype(tag);
    bernoulli_kernel<T><<<blocks_for((n + 3) / 4), kThreads, 0, stream(out.device())>>>(first<T>(out), n, p,
                                                                                      compute_t<T>(scale),
                                                                                      seed, first_block);
  });
  check_launch("bernoulli");
}

}  // namespace cortex::backend::cuda
