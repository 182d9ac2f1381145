// Tensor: a cheap value handle on shared Storage with shape, strides (in
// elements), offset, dtype, device and optional autograd state.
//
// Copies share everything (like torch.Tensor); views share the Storage.
// The class is declared here with its whole user-facing API; methods that
// compute (reshape, contiguous, to, ...) are defined in the ops layer so that
// they record gradients, the way PyTorch's TensorBody is filled by ATen.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "cortex/core/device.h"
#include "cortex/core/dtype.h"
#include "cortex/core/error.h"
#include "cortex/core/shape.h"
#include "cortex/core/storage.h"

namespace cortex {

namespace autograd { class Node; }

struct AutogradMeta {
  bool requires_grad = false;
  std::shared_ptr<class TensorImpl> grad;  // accumulated gradient (leaves)
  std::shared_ptr<autograd::Node> grad_fn;  // the node that made this tensor
  std::uint32_t output_nr = 0;              // which of grad_fn's outputs it is
};

class TensorImpl {
 public:
  TensorImpl(std::shared_ptr<Storage> storage, Shape shape, Strides strides,
             std::int64_t offset, DType dtype);

  std::shared_ptr<Storage> storage;
  Shape shape;
  Strides strides;
  std::int64_t offset = 0;
  DType dtype = DType::f32;
  std::unique_ptr<AutogradMeta> autograd;  // null until autograd touches it
};

class Tensor {
 public:
  Tensor() = default;  // undefined tensor: defined() == false
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // Uninitialised contiguous memory (core; no kernel runs).
  static Tensor empty(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());

  // ---- metadata ----
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  std::int64_t size(std::int64_t axis) const;  // negative axes count from the end
  const Strides& strides() const;
  std::int64_t offset() const;
  std::int64_t dim() const { return static_cast<std::int64_t>(shape().size()); }
  std::int64_t numel() const;
  DType dtype() const;
  Device device() const;
  bool is_contiguous() const;
  const std::shared_ptr<Storage>& storage() const;
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool is_same(const Tensor& other) const { return impl_ == other.impl_; }

  // Pointer to the first element; checks that T matches the dtype.
  template <typename T> T* data() const;
  void* raw_data() const;

  // A view with explicit geometry and no autograd (the building block of views).
  Tensor as_strided(const Shape& shape, const Strides& strides, std::int64_t offset) const;

  // ---- autograd state (core) ----
  bool requires_grad() const;
  Tensor& set_requires_grad(bool value = true);  // leaves only
  bool is_leaf() const;
  Tensor grad() const;  // undefined until a backward reaches this leaf
  void set_grad(const Tensor& grad);
  void zero_grad();  // drops the accumulated gradient
  const std::shared_ptr<autograd::Node>& grad_fn() const;
  // Makes this tensor output `output_nr` of the node `fn`.
  void set_grad_fn(std::shared_ptr<autograd::Node> fn, std::uint32_t output_nr = 0);
  std::uint32_t output_nr() const;  // which output of grad_fn() this is (0 for one-output nodes)
  Tensor detach() const;  // shares storage, no history

  // ---- autograd (defined in the autograd layer) ----
  // Sends `grad` (default 1 for a scalar) back through the graph into .grad()
  // of every leaf that requires it. The graph is freed unless retain_graph.
  void backward(const Tensor& grad = Tensor(), bool retain_graph = false) const;

  // ---- views (ops layer; differentiable) ----
  Tensor reshape(const Shape& shape) const;  // copies only when no view is possible
  Tensor view(const Shape& shape) const;     // never copies; throws if impossible
  Tensor flatten(std::int64_t start_axis = 0, std::int64_t end_axis = -1) const;
  Tensor permute(const std::vector<std::int64_t>& axes) const;
  Tensor transpose(std::int64_t a, std::int64_t b) const;
  Tensor slice(std::int64_t axis, std::int64_t start, std::int64_t end, std::int64_t step = 1) const;
  Tensor select(std::int64_t axis, std::int64_t index) const;
  Tensor squeeze() const;
  Tensor squeeze(std::int64_t axis) const;
  Tensor unsqueeze(std::int64_t axis) const;
  Tensor expand(const Shape& shape) const;

  // ---- copies and conversions (ops layer) ----
  Tensor contiguous() const;
  Tensor clone() const;
  Tensor to(DType dtype) const;
  Tensor to(Device device) const;
  Tensor& copy_(const Tensor& src);  // in place, broadcasting src; not recorded
  Tensor& fill_(double value);       // in place; not recorded

  // ---- element access (ops layer; copies to the host when needed) ----
  double item() const;  // the single element of a one-element tensor
  template <typename T> T item() const { return static_cast<T>(item()); }
  double at(std::initializer_list<std::int64_t> index) const;
  template <typename T> std::vector<T> to_vector() const;  // row-major copy

  // ---- common reductions as members (ops layer) ----
  Tensor sum() const;
  Tensor mean() const;

  std::string str() const;  // numpy-like printout

 private:
  void check_defined(const char* what) const;
  std::shared_ptr<TensorImpl> impl_;
};

std::ostream& operator<<(std::ostream& out, const Tensor& t);

template <typename T>
T* Tensor::data() const {
  if (dtype() != dtype_of<T>())
    fail<DTypeError>("Tensor::data<", dtype_name(dtype_of<T>()), "> called on a ", dtype_name(dtype()), " tensor");
  return static_cast<T*>(raw_data());
}

}  // namespace cortex
