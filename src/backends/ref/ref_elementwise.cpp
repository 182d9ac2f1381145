// Reference element-wise kernels: fill, converting copy, binary ops and where.
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include "backends/common/convert.h"
#include "backends/ref/ref_common.h"
#include "backends/ref/ref_kernels.h"

namespace cortex::backend::ref {
namespace {

double binary_scalar(BinaryOp op, double a, double b) {
  switch (op) {
    case BinaryOp::add: return a + b;
    case BinaryOp::sub: return a - b;
    case BinaryOp::mul: return a * b;
    case BinaryOp::div: return a / b;
    case BinaryOp::pow: return std::pow(a, b);
    // NaN wins, like numpy.maximum / numpy.minimum.
    case BinaryOp::maximum: return std::isnan(a) ? a : std::isnan(b) ? b : (a < b ? b : a);
    case BinaryOp::minimum: return std::isnan(a) ? a : std::isnan(b) ? b : (b < a ? b : a);
    default: break;
  }
  fail<ValueError>("ref binary: ", binary_name(op), " is not an arithmetic op");
}

bool compare_scalar(BinaryOp op, double a, double b) {
  switch (op) {
    case BinaryOp::eq: return a == b;
    case BinaryOp::ne: return a != b;
    case BinaryOp::lt: return a < b;
    case BinaryOp::le: return a <= b;
    case BinaryOp::gt: return a > b;
    case BinaryOp::ge: return a >= b;
    default: break;
  }
  fail<ValueError>("ref binary: ", binary_name(op), " is not a comparison");
}

}  // namespace

// out: any shape and dtype, written through its strides.
void fill(Tensor& out, double value) {
  visit_dtype(out.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T v = convert<T>(value);
    T* o = storage_ptr<T>(out);
    for_each_element<1>(out.shape(), {&out}, [&](const auto& off) { o[off[0]] = v; });
  });
}

// src, dst: the same shape, any dtypes, both strided.
void copy(const Tensor& src, Tensor& dst) {
  expect_shape(src, dst.shape(), "copy", "src");
  visit_dtype(src.dtype(), [&](auto src_tag) {
    using S = decltype(src_tag);
    visit_dtype(dst.dtype(), [&](auto dst_tag) {
      using D = decltype(dst_tag);
      const S* s = storage_ptr<S>(src);
      D* d = storage_ptr<D>(dst);
      for_each_element<2>(dst.shape(), {&src, &dst},
                          [&](const auto& off) { d[off[1]] = convert<D>(s[off[0]]); });
    });
  });
}

// a, b: expanded to out's shape, same float dtype; out: that dtype, or bool
// for comparisons. Computed in double: exact for + - * / after rounding.
void binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out) {
  const std::string what = std::string("binary ") + binary_name(op);
  expect_shape(a, out.shape(), what, "a");
  expect_shape(b, out.shape(), what, "b");
  visit_float(a.dtype(), what, [&](auto tag) {
    using T = decltype(tag);
    expect_dtype(b, a.dtype(), what, "b");
    const T* pa = storage_ptr<T>(a);
    const T* pb = storage_ptr<T>(b);
    const std::array<const Tensor*, 3> ops = {&a, &b, &out};
    if (is_comparison(op)) {
      expect_dtype(out, DType::boolean, what, "out");
      bool* po = storage_ptr<bool>(out);
      for_each_element<3>(out.shape(), ops, [&](const auto& off) {
        po[off[2]] = compare_scalar(op, pa[off[0]], pb[off[1]]);
      });
    } else {
      expect_dtype(out, a.dtype(), what, "out");
      T* po = storage_ptr<T>(out);
      for_each_element<3>(out.shape(), ops, [&](const auto& off) {
        po[off[2]] = static_cast<T>(binary_scalar(op, pa[off[0]], pb[off[1]]));
      });
    }
  });
}

// cond: bool; a, b: any dtype equal to out's; all expanded to out's shape.
void where(const Tensor& cond, const Tensor& a, const Tensor& b, Tensor& out) {
  expect_dtype(cond, DType::boolean, "where", "cond");
  expect_dtype(a, out.dtype(), "where", "a");
  expect_dtype(b, out.dtype(), "where", "b");
  expect_shape(cond, out.shape(), "where", "cond");
  expect_shape(a, out.shape(), "where", "a");
  expect_shape(b, out.shape(), "where", "b");
  visit_dtype(out.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const bool* pc = storage_ptr<bool>(cond);
    const T* pa = storage_ptr<T>(a);
    const T* pb = storage_ptr<T>(b);
    T* po = storage_ptr<T>(out);
    for_each_element<4>(out.shape(), {&cond, &a, &b, &out}, [&](const auto& off) {
      po[off[3]] = pc[off[0]] ? pa[off[1]] : pb[off[2]];
    });
  });
}

}  // namespace cortex::backend::ref
