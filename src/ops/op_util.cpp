// Argument checks and raw helpers shared by the op files.
#include "op_util.h"

#include "cortex/ops/autocast.h"

#include <algorithm>
#include <cmath>

namespace cortex::detail {

void check_defined(const Tensor& t, const char* op, const char* arg) {
  if (!t.defined()) fail<ValueError>(op, " expects a defined tensor for ", arg, ", got an undefined one");
}

void check_fill_value(double value, DType dtype, const char* op) {
  if (is_floating(dtype)) return;
  if (!std::isfinite(value))
    fail<ValueError>(op, " expects a finite value for a ", dtype_name(dtype), " tensor, got ", value);
  double low = 0.0, high = 0.0;  // the open range whose truncations fit
  switch (dtype) {
    case DType::i32: low = -2147483649.0, high = 2147483648.0; break;
    case DType::i64: low = -9223372036854777856.0, high = 9223372036854775808.0; break;  // -2^63 - 2048: next double below -2^63
    case DType::u8: low = -1.0, high = 256.0; break;
    default: return;  // bool: nonzero is true
  }
  if (!(value > low && value < high))
    fail<ValueError>(op, " cannot store ", value, " in a ", dtype_name(dtype), " tensor without overflow");
}

void check_floating(const Tensor& t, const char* op) {
  check_defined(t, op, "its input");
  if (t.dtype() != DType::f32 && t.dtype() != DType::f64)
    fail<DTypeError>(op, " expects a f32 or f64 tensor, got ", dtype_name(t.dtype()),
                     " (convert with .to(DType::f32))");
}

void check_floating_or_bf16(const Tensor& t, const char* op) {
  check_defined(t, op, "its input");
  if (t.dtype() != DType::bf16) check_floating(t, op);
}

namespace {
thread_local bool autocast_on = false;
}  // namespace

bool autocasts(const Tensor& t) {
  return autocast_on && t.defined() && t.dtype() == DType::f32 && t.device().is_cuda();
}
bool autocast_applies(std::initializer_list<const Tensor*> operands) {
  bool any = false;
  for (const Tensor* t : operands) {
    if (!t->defined()) continue;
    if (t->dtype() != DType::f32 && t->dtype() != DType::bf16) return false;
    any = any || autocasts(*t);
  }
  return any;
}
Tensor to_bf16_if_autocast(const Tensor& t) { return autocasts(t) ? t.to(DType::bf16) : t; }
Tensor to_f32_if_bf16(const Tensor& t) { return t.defined() && t.dtype() == DType::bf16 ? t.to(DType::f32) : t; }
Tensor to_f32_if_autocast(const Tensor& t) { return autocast_on ? to_f32_if_bf16(t) : t; }

}  // namespace cortex::detail

namespace cortex {
AutocastScope::AutocastScope(bool enabled) : previous_(detail::autocast_on) { detail::autocast_on = enabled; }
AutocastScope::~AutocastScope() { detail::autocast_on = previous_; }
bool autocast_enabled() { return detail::autocast_on; }
}  // namespace cortex

namespace cortex::detail {

void check_same_dtype(const Tensor& a, const Tensor& b, const char* op) {
  if (a.dtype() != b.dtype())
    fail<DTypeError>(op, " expects tensors of one dtype, got ", dtype_name(a.dtype()), " and ",
                     dtype_name(b.dtype()));
}

void check_same_device(const Tensor& a, const Tensor& b, const char* op) {
  if (a.device() != b.device())
    fail<DeviceError>(op, " expects tensors on one device, got ", a.device().str(), " and ",
                      b.device().str());
}

void check_rank(const Tensor& t, std::int64_t rank, const char* op, const char* what) {
  if (t.dim() != rank)
    fail<ShapeError>(op, " expects a rank-", rank, " ", what, ", got shape ", shape_str(t.shape()));
}

Tensor alloc(const Shape& shape, DType dtype, Device device) {
  backend::kernels(backend::backend_for(device));  // installs the device's allocator
  return Tensor::empty(shape, dtype, device);
}

Tensor contiguous_raw(const Tensor& t) {
  if (t.is_contiguous() && t.offset() == 0) return t.detach();
  Tensor out = alloc(t.shape(), t.dtype(), t.device());
  kernel(&Kernels::copy, t.device(), "contiguous")(t, out);
  return out;
}

Tensor expand_raw(const Tensor& t, const Shape& shape) {
  std::size_t n = shape.size(), k = t.shape().size();
  if (k > n) fail<ShapeError>("expand cannot shrink rank: ", shape_str(t.shape()), " to ", shape_str(shape));
  Strides st(n, 0);
  for (std::size_t i = 0; i < k; ++i) {
    std::size_t d = n - k + i;
    std::int64_t size = t.shape()[i];
    if (size == shape[d]) st[d] = t.strides()[i];
    else if (size == 1) st[d] = 0;
    else fail<ShapeError>("expand cannot stretch shape ", shape_str(t.shape()), " to ", shape_str(shape),
                          ": axis ", d, " has size ", size, ", not 1 or ", shape[d]);
  }
  return t.as_strided(shape, st, t.offset());
}

Tensor sum_to(const Tensor& grad, const Shape& shape) {
  if (grad.shape() == shape) return grad;
  std::int64_t lead = grad.dim() - static_cast<std::int64_t>(shape.size());
  std::vector<std::int64_t> axes;
  for (std::int64_t i = 0; i < grad.dim(); ++i)
    if (i < lead || (shape[i - lead] == 1 && grad.shape()[i] != 1)) axes.push_back(i);
  Tensor s = axes.empty() ? grad : cortex::sum(grad, axes, true);
  return s.reshape(shape);
}

Tensor scalar_like(double value, const Tensor& t) {
  Tensor s = alloc({}, t.dtype(), t.device());
  kernel(&Kernels::fill, t.device(), "fill")(s, value);
  return s;
}

std::pair<std::int64_t, std::int64_t> same_pads(std::int64_t in, std::int64_t k_eff, std::int64_t stride) {
  std::int64_t out = (in + stride - 1) / stride;
  std::int64_t total = std::max<std::int64_t>((out - 1) * stride + k_eff - in, 0);
  return {total / 2, total - total / 2};
}

Tensor as_rows(const Tensor& t, std::int64_t k) {
  std::int64_t rows = 1;
  for (std::int64_t i = 0; i + 1 < t.dim(); ++i) rows *= t.shape()[i];
  if (t.dim() == 0 || t.shape().back() != k) rows = k == 0 ? 0 : t.numel() / k;
  return t.view({rows, k});
}

std::vector<std::int64_t> normalize_axes(const std::vector<std::int64_t>& axes, std::int64_t rank,
                                         const char* op) {
  std::vector<std::int64_t> out;
  if (axes.empty()) {
    for (std::int64_t i = 0; i < rank; ++i) out.push_back(i);
    return out;
  }
  for (auto a : axes) out.push_back(normalize_axis(a, rank, op));
  std::sort(out.begin(), out.end());
  if (std::adjacent_find(out.begin(), out.end()) != out.end())
    fail<ValueError>(op, " expects distinct axes, got a repeated axis");
  return out;
}

}  // namespace cortex::detail
