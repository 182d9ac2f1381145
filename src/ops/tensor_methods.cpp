// Tensor members that copy or convert: contiguous, clone, to, copy_, fill_,
// element access. Each recorded copy passes its gradient straight through.
#include "cortex/autograd/grad_mode.h"
#include "cortex/ops/creation.h"
#include "cortex/ops/reduce.h"
#include "op_util.h"

namespace cortex {
using autograd::record;
using detail::alloc;
using detail::kernel;

namespace {

// The backend that moves data between `from` and `to`: CUDA's when either is a GPU.
Device copy_device(Device from, Device to) { return from.is_cuda() ? from : to; }

Tensor copy_to(const Tensor& src, DType dtype, Device device) {
  Tensor out = alloc(src.shape(), dtype, device);
  kernel(&Kernels::copy, copy_device(src.device(), device), "copy")(src, out);
  return out;
}

}  // namespace

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  return clone();
}

Tensor Tensor::clone() const {
  return record("clone", copy_to(*this, dtype(), device()), {*this},
                [](const Tensor& g) -> std::vector<Tensor> { return {g}; });
}

Tensor Tensor::to(DType target) const {
  if (target == dtype()) return *this;
  DType from = dtype();
  Tensor out = copy_to(*this, target, device());
  if (!is_floating(target) || !is_floating(from)) return out;  // no gradient through integers
  return record("to_dtype", out, {*this},
                [from](const Tensor& g) -> std::vector<Tensor> { return {g.to(from)}; });
}

Tensor Tensor::to(Device target) const {
  if (target == device()) return *this;
  Device from = device();
  return record("to_device", copy_to(*this, dtype(), target), {*this},
                [from](const Tensor& g) -> std::vector<Tensor> { return {g.to(from)}; });
}

Tensor& Tensor::copy_(const Tensor& src) {
  detail::check_defined(src, "copy_", "the source");
  if (requires_grad() && GradMode::is_enabled())
    fail<AutogradError>("copy_ into a tensor that requires grad would hide the write from autograd; "
                        "run it under NoGradGuard");
  for (std::int64_t i = 0; i < dim(); ++i)
    if (strides()[i] == 0 && shape()[i] > 1)
      fail<ValueError>("copy_ expects a destination whose elements are distinct, got an expanded view of shape ",
                       shape_str(shape()), " with strides ", shape_str(strides()));
  Tensor s = detail::expand_raw(src, shape());
  // A source sharing memory with the destination is read whole before any write.
  if (src.storage() == storage()) s = copy_to(s, s.dtype(), s.device());
  kernel(&Kernels::copy, copy_device(src.device(), device()), "copy_")(s, *this);
  storage()->bump_version();
  return *this;
}

Tensor& Tensor::fill_(double value) {
  if (requires_grad() && GradMode::is_enabled())
    fail<AutogradError>("fill_ on a tensor that requires grad would hide the write from autograd; "
                        "run it under NoGradGuard");
  detail::check_fill_value(value, dtype(), "fill_");
  if (is_contiguous()) {
    kernel(&Kernels::fill, device(), "fill_")(*this, value);
    storage()->bump_version();
  } else {
    copy_(scalar(value, dtype(), device()));
  }
  return *this;
}

double Tensor::item() const {
  if (numel() != 1)
    fail<ShapeError>("item() expects a one-element tensor, got shape ", shape_str(shape()));
  Tensor host = copy_to(*this, DType::f64, Device::cpu());
  return *host.data<double>();
}

double Tensor::at(std::initializer_list<std::int64_t> index) const {
  if (static_cast<std::int64_t>(index.size()) != dim())
    fail<IndexError>("at() expects ", dim(), " indices for shape ", shape_str(shape()), ", got ", index.size());
  std::int64_t off = offset();
  std::size_t i = 0;
  for (std::int64_t v : index) {
    std::int64_t n = shape()[i];
    if (v < -n || v >= n)
      fail<IndexError>("at() index ", v, " is out of range for axis ", i, " of size ", n);
    off += (v < 0 ? v + n : v) * strides()[i];
    ++i;
  }
  return as_strided({}, {}, off).item();
}

template <typename T>
std::vector<T> Tensor::to_vector() const {
  Tensor host = copy_to(*this, dtype_of<T>(), Device::cpu());
  const T* p = host.data<T>();
  return std::vector<T>(p, p + host.numel());
}
template std::vector<float> Tensor::to_vector() const;
template std::vector<double> Tensor::to_vector() const;
template std::vector<std::int32_t> Tensor::to_vector() const;
template std::vector<std::int64_t> Tensor::to_vector() const;
template std::vector<std::uint8_t> Tensor::to_vector() const;

Tensor Tensor::sum() const { return cortex::sum(*this); }
Tensor Tensor::mean() const { return cortex::mean(*this); }

}  // namespace cortex
