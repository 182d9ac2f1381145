// Device-side element types and scalar math for the CUDA kernels: dtype
// dispatch (bf16 as __nv_bfloat16), conversions with the host's semantics
// (src/backends/common/convert.h), and float/double overloads of the math functions.
#pragma once

#include <cuda_bf16.h>

#include <cstdint>
#include <type_traits>
#include <utility>

#include "cortex/core/dtype.h"
#include "cortex/core/error.h"
#include "cortex/core/philox.h"

namespace cortex::backend::cuda {

using bf16_t = __nv_bfloat16;

// Calls f(T{}) with T the device type of `dtype`.
template <typename F>
void device_visit_dtype(DType dtype, F&& f) {
  visit_dtype<bf16_t>(dtype, std::forward<F>(f));
}

// f32 or f64 only, as the arithmetic kernels take.
template <typename F>
void device_visit_float(DType dtype, const char* what, F&& f) {
  switch (dtype) {
    case DType::f32: return f(float{});
    case DType::f64: return f(double{});
    default: break;
  }
  fail<DTypeError>(what, " on cuda expects f32 or f64, got ", dtype_name(dtype));
}

// f32, f64 and bf16: the kernels that autocast's activations pass through
// (bf16 is stored as bf16 and computed in float, see compute_t).
template <typename F>
void device_visit_float_or_bf16(DType dtype, const char* what, F&& f) {
  if (dtype == DType::bf16) return f(bf16_t{});
  if (dtype != DType::f32 && dtype != DType::f64)
    fail<DTypeError>(what, " on cuda expects f32, f64 or bf16, got ", dtype_name(dtype));
  device_visit_float(dtype, what, std::forward<F>(f));
}

// The type a kernel computes in for elements stored as T: float for bf16.
template <typename T>
using compute_t = std::conditional_t<std::is_same_v<T, bf16_t>, float, T>;

__device__ inline std::int64_t float_to_i64(double v) {
  if (v != v) return 0;
  if (v >= 0x1p63) return INT64_MAX;
  if (v < -0x1p63) return INT64_MIN;
  return static_cast<std::int64_t>(v);
}

template <typename To, typename From>
__device__ inline To convert(From v) {
  if constexpr (std::is_same_v<From, bf16_t>) {
    return convert<To>(__bfloat162float(v));
  } else if constexpr (std::is_same_v<To, bf16_t>) {
    return __float2bfloat16_rn(static_cast<float>(v));
  } else if constexpr (std::is_same_v<To, bool>) {
    return v != From{0};
  } else if constexpr (std::is_integral_v<To> && std::is_floating_point_v<From>) {
    return static_cast<To>(float_to_i64(static_cast<double>(v)));
  } else {
    return static_cast<To>(v);
  }
}

// One overload per precision, so templates pick the float function for f32.
#define CORTEX_MATH1(name, f32fn, f64fn)                        \
  __device__ inline float name(float x) { return f32fn(x); }   \
  __device__ inline double name(double x) { return f64fn(x); }
CORTEX_MATH1(m_exp, expf, exp)
CORTEX_MATH1(m_log, logf, log)
CORTEX_MATH1(m_sqrt, sqrtf, sqrt)
CORTEX_MATH1(m_rsqrt, rsqrtf, rsqrt)
CORTEX_MATH1(m_abs, fabsf, fabs)
CORTEX_MATH1(m_tanh, tanhf, tanh)
CORTEX_MATH1(m_erf, erff, erf)
CORTEX_MATH1(m_expm1, expm1f, expm1)
CORTEX_MATH1(m_log1p, log1pf, log1p)
#undef CORTEX_MATH1
__device__ inline float m_pow(float a, float b) { return powf(a, b); }
__device__ inline double m_pow(double a, double b) { return pow(a, b); }
template <typename T>
__device__ inline bool m_isnan(T x) {
  return x != x;
}

}  // namespace cortex::backend::cuda
