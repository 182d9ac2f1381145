// Tensor's core half: construction, metadata, raw views and autograd state.
#include "cortex/core/tensor.h"

#include <algorithm>

namespace cortex {

TensorImpl::TensorImpl(std::shared_ptr<Storage> storage_, Shape shape_, Strides strides_,
                       std::int64_t offset_, DType dtype_)
    : storage(std::move(storage_)), shape(std::move(shape_)), strides(std::move(strides_)),
      offset(offset_), dtype(dtype_) {}

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  // The product of the sizes, zeros counted as 1, stays under 2^52 bytes: a zero size
  // empties the tensor but must not let its neighbours' strides overflow.
  std::int64_t n = 1, bound = 1;
  const std::int64_t limit = (std::int64_t{1} << 52) / static_cast<std::int64_t>(element_size(dtype));
  for (auto d : shape) {
    if (d < 0) fail<ValueError>("Tensor::empty expects non-negative sizes, got ", shape_str(shape));
    const std::int64_t at_least_1 = std::max<std::int64_t>(d, 1);
    if (bound > limit / at_least_1)
      fail<ValueError>("Tensor::empty: shape ", shape_str(shape), " of ", dtype_name(dtype), " is too large to allocate");
    bound *= at_least_1;
    n *= d;
  }
  auto storage = std::make_shared<Storage>(n * element_size(dtype), device);
  return Tensor(std::make_shared<TensorImpl>(std::move(storage), shape, contiguous_strides(shape), 0, dtype));
}

void Tensor::check_defined(const char* what) const {
  if (!impl_) fail<ValueError>(what, " called on an undefined tensor");
}

const Shape& Tensor::shape() const { check_defined("shape()"); return impl_->shape; }
const Strides& Tensor::strides() const { check_defined("strides()"); return impl_->strides; }
std::int64_t Tensor::offset() const { check_defined("offset()"); return impl_->offset; }
std::int64_t Tensor::numel() const { return cortex::numel(shape()); }
DType Tensor::dtype() const { check_defined("dtype()"); return impl_->dtype; }
Device Tensor::device() const { check_defined("device()"); return impl_->storage->device(); }
const std::shared_ptr<Storage>& Tensor::storage() const { check_defined("storage()"); return impl_->storage; }

std::int64_t Tensor::size(std::int64_t axis) const {
  return shape()[normalize_axis(axis, dim(), "Tensor::size")];
}

bool Tensor::is_contiguous() const {
  const Shape& sh = shape();
  std::int64_t expected = 1;
  for (std::size_t i = sh.size(); i-- > 0;) {
    if (sh[i] == 1) continue;
    if (impl_->strides[i] != expected) return false;
    expected *= sh[i];
  }
  return true;
}

void* Tensor::raw_data() const {
  check_defined("data()");
  return static_cast<char*>(impl_->storage->data()) + impl_->offset * element_size(impl_->dtype);
}

Tensor Tensor::as_strided(const Shape& shape, const Strides& strides, std::int64_t offset) const {
  check_defined("as_strided()");
  if (shape.size() != strides.size())
    fail<ShapeError>("as_strided expects as many strides as sizes, got shape ", shape_str(shape),
                     " and strides ", shape_str(strides));
  // Every element the view can reach must lie inside the storage.
  std::int64_t last = offset;
  bool empty = false;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] < 0 || strides[i] < 0)
      fail<ValueError>("as_strided expects non-negative sizes and strides, got shape ", shape_str(shape),
                       " and strides ", shape_str(strides));
    std::int64_t reach = 0;
    if (shape[i] == 0) empty = true;
    else if (__builtin_mul_overflow(shape[i] - 1, strides[i], &reach) || __builtin_add_overflow(last, reach, &last))
      fail<IndexError>("as_strided view (shape ", shape_str(shape), ", strides ", shape_str(strides), ", offset ",
                       offset, ") reaches past element 2^63");
  }
  cortex::numel(shape);  // throws when the sizes (zeros counted as 1) multiply past 2^63
  std::int64_t capacity = static_cast<std::int64_t>(impl_->storage->nbytes() / element_size(impl_->dtype));
  if (offset < 0 || (!empty && last >= capacity))
    fail<IndexError>("as_strided view (shape ", shape_str(shape), ", strides ", shape_str(strides), ", offset ",
                     offset, ") reaches element ", last, " of a storage holding ", capacity);
  return Tensor(std::make_shared<TensorImpl>(impl_->storage, shape, strides, offset, impl_->dtype));
}

bool Tensor::requires_grad() const {
  return impl_ && impl_->autograd && impl_->autograd->requires_grad;
}

Tensor& Tensor::set_requires_grad(bool value) {
  check_defined("set_requires_grad()");
  if (!is_leaf())
    fail<AutogradError>("set_requires_grad expects a leaf tensor, got one computed by an op "
                        "(use detach() to make a new leaf)");
  if (value && !is_floating(dtype()))
    fail<DTypeError>("only floating tensors can require gradients, got ", dtype_name(dtype()));
  if (!impl_->autograd) impl_->autograd = std::make_unique<AutogradMeta>();
  impl_->autograd->requires_grad = value;
  return *this;
}

bool Tensor::is_leaf() const { return !(impl_ && impl_->autograd && impl_->autograd->grad_fn); }

Tensor Tensor::grad() const {
  if (!impl_ || !impl_->autograd || !impl_->autograd->grad) return Tensor();
  return Tensor(impl_->autograd->grad);
}

void Tensor::set_grad(const Tensor& grad) {
  check_defined("set_grad()");
  if (grad.defined() && (grad.shape() != shape() || grad.dtype() != dtype() || grad.device() != device()))
    fail<AutogradError>("set_grad expects a gradient of shape ", shape_str(shape()), " ", dtype_name(dtype()),
                        " on ", device().str(), ", got ", shape_str(grad.shape()), " ", dtype_name(grad.dtype()),
                        " on ", grad.device().str());
  if (!impl_->autograd) impl_->autograd = std::make_unique<AutogradMeta>();
  impl_->autograd->grad = grad.impl_ptr();
}

void Tensor::zero_grad() {
  if (impl_ && impl_->autograd) impl_->autograd->grad.reset();
}

const std::shared_ptr<autograd::Node>& Tensor::grad_fn() const {
  static const std::shared_ptr<autograd::Node> none;
  if (!impl_ || !impl_->autograd) return none;
  return impl_->autograd->grad_fn;
}

void Tensor::set_grad_fn(std::shared_ptr<autograd::Node> fn, std::uint32_t output_nr) {
  check_defined("set_grad_fn()");
  if (!impl_->autograd) impl_->autograd = std::make_unique<AutogradMeta>();
  impl_->autograd->requires_grad = fn != nullptr;
  impl_->autograd->grad_fn = std::move(fn);
  impl_->autograd->output_nr = output_nr;
}

std::uint32_t Tensor::output_nr() const { return impl_ && impl_->autograd ? impl_->autograd->output_nr : 0; }

Tensor Tensor::detach() const {
  check_defined("detach()");
  return as_strided(impl_->shape, impl_->strides, impl_->offset);
}

}  // namespace cortex
