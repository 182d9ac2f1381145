// cpu element-wise kernels as OpenMP loops: fill, converting copy (memcpy when
// it can), binary arithmetic and comparisons, and where.
#include <omp.h>

#include <cmath>
#include <cstring>

#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/cpu_loops.h"

namespace cortex::backend::cpu {
namespace {

// Bytes per thread below which a memcpy stays on one thread.
constexpr std::size_t kMemcpyGrain = std::size_t{1} << 20;

void parallel_memcpy(void* dst, const void* src, std::size_t nbytes) {
  const std::int64_t chunks =
      std::min<std::int64_t>(omp_in_parallel() ? 1 : omp_get_max_threads(),
                             static_cast<std::int64_t>((nbytes + kMemcpyGrain - 1) / kMemcpyGrain));
  if (chunks <= 1) {
    if (nbytes > 0) std::memcpy(dst, src, nbytes);
    return;
  }
#pragma omp parallel for num_threads(static_cast <int>(chunks)) schedule(static, 1)
  for (std::int64_t c = 0; c < chunks; ++c) {
    // 64-byte aligned cut points keep each thread on its own cache lines.
    const std::size_t b = nbytes * c / chunks / 64 * 64;
    const std::size_t e = c + 1 == chunks ? nbytes : nbytes * (c + 1) / chunks / 64 * 64;
    std::memcpy(static_cast<char*>(dst) + b, static_cast<const char*>(src) + b, e - b);
  }
}

template <typename T>
void binary_typed(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out) {
  const auto arith = [&](std::int64_t grain, auto f) { map<T, T, T>(out, grain, f, {&a, &b}); };
  const auto compare = [&](auto f) { map<bool, T, T>(out, kGrainCheap, f, {&a, &b}); };
  switch (op) {
    case BinaryOp::add:
      return arith(kGrainCheap, [](T x, T y) { return x + y; });
    case BinaryOp::sub:
      return arith(kGrainCheap, [](T x, T y) { return x - y; });
    case BinaryOp::mul:
      return arith(kGrainCheap, [](T x, T y) { return x * y; });
    case BinaryOp::div:
      return arith(kGrainCheap, [](T x, T y) { return x / y; });
    case BinaryOp::pow:
      return arith(kGrainMath, [](T x, T y) { return std::pow(x, y); });
    // NaN wins, like numpy.maximum / numpy.minimum.
    case BinaryOp::maximum:
      return arith(kGrainCheap, [](T x, T y) { return x != x ? x : y != y ? y : (x < y ? y : x); });
    case BinaryOp::minimum:
      return arith(kGrainCheap, [](T x, T y) { return x != x ? x : y != y ? y : (y < x ? y : x); });
    case BinaryOp::eq:
      return compare([](T x, T y) { return x == y; });
    case BinaryOp::ne:
      return compare([](T x, T y) { return x != y; });
    case BinaryOp::lt:
      return compare([](T x, T y) { return x < y; });
    case BinaryOp::le:
      return compare([](T x, T y) { return x <= y; });
    case BinaryOp::gt:
      return compare([](T x, T y) { return x > y; });
    case BinaryOp::ge:
      return compare([](T x, T y) { return x >= y; });
  }
  fail<ValueError>("cpu binary: unknown op ", static_cast<int>(op));
}

}  // namespace

// out: any shape and dtype, written through its strides.
void fill(Tensor& out, double value) {
  visit_dtype(out.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T v = convert<T>(value);
    map<T>(out, kGrainCheap, [v]() { return v; }, {});
  });
}

// src, dst: the same shape, any dtypes, both strided.
void copy(const Tensor& src, Tensor& dst) {
  if (src.shape() != dst.shape()) return ref_kernel(&Kernels::copy, "copy")(src, dst);
  if (src.dtype() == dst.dtype() && src.is_contiguous() && dst.is_contiguous()) {
    const std::size_t nbytes = static_cast<std::size_t>(src.numel()) * element_size(src.dtype());
    if (nbytes > 0 && src.raw_data() != dst.raw_data())
      parallel_memcpy(dst.raw_data(), src.raw_data(), nbytes);
    return;
  }
  visit_dtype(src.dtype(), [&](auto src_tag) {
    using S = decltype(src_tag);
    visit_dtype(dst.dtype(), [&](auto dst_tag) {
      using D = decltype(dst_tag);
      map<D, S>(dst, kGrainCheap, [](S v) { return convert<D>(v); }, {&src});
    });
  });
}

// a, b: expanded to out's shape, one float dtype; out: that dtype, or bool for
// comparisons. Integer dtypes go to the reference kernel.
void binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out) {
  const DType want_out = is_comparison(op) ? DType::boolean : a.dtype();
  const bool fits = a.shape() == out.shape() && b.shape() == out.shape() &&
                    b.dtype() == a.dtype() && out.dtype() == want_out;
  if (fits && a.dtype() == DType::f32) return binary_typed<float>(op, a, b, out);
  if (fits && a.dtype() == DType::f64) return binary_typed<double>(op, a, b, out);
  ref_kernel(&Kernels::binary, "binary")(op, a, b, out);
}

// cond: bool; a, b: out's dtype (any); all expanded to out's shape.
void where(const Tensor& cond, const Tensor& a, const Tensor& b, Tensor& out) {
  const bool fits = cond.dtype() == DType::boolean && a.dtype() == out.dtype() &&
                    b.dtype() == out.dtype() && cond.shape() == out.shape() &&
                    a.shape() == out.shape() && b.shape() == out.shape();
  if (!fits) return ref_kernel(&Kernels::where, "where")(cond, a, b, out);
  visit_dtype(out.dtype(), [&](auto tag) {
    using T = decltype(tag);
    map<T, bool, T, T>(out, kGrainCheap, [](bool c, T x, T y) { return c ? x : y; },
                       {&cond, &a, &b});
  });
}

}  // namespace cortex::backend::cpu
