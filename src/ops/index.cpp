// index_select, gather and one_hot: the gather kernel on (outer, axis, inner)
// views, with scatter_add as the gradient.
#include "cortex/ops/creation.h"
#include "cortex/ops/elementwise.h"
#include "cortex/ops/reduce.h"
#include "cortex/ops/shape_ops.h"
#include "op_util.h"

namespace cortex {
using autograd::record;

namespace {

// (outer, n, inner) dims of `shape` around `axis`.
std::array<std::int64_t, 3> three(const Shape& shape, int axis) {
  std::int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= shape[i];
  for (std::size_t i = axis + 1; i < shape.size(); ++i) inner *= shape[i];
  return {outer, shape[axis], inner};
}

Tensor as_i64(const Tensor& index, const char* op) {
  if (!is_integral(index.dtype()))
    fail<DTypeError>(op, " expects an integer index tensor, got ", dtype_name(index.dtype()));
  return index.to(DType::i64);
}

// Gathers x3 (O, N, I) at idx3 (O, M, I) into `out_shape`, recording scatter_add as the gradient.
Tensor gather3(const Tensor& x, const Tensor& x3, const Tensor& idx3, const Shape& out_shape, const char* op) {
  detail::check_same_device(x, idx3, op);
  Tensor out = detail::alloc(out_shape, x.dtype(), x.device());
  Tensor out3 = out.as_strided(idx3.shape(), contiguous_strides(idx3.shape()), 0);
  detail::kernel(&Kernels::gather, x.device(), op)(x3, idx3, out3);
  Shape in = x.shape();
  Shape in3 = x3.shape();
  Tensor idx = idx3;
  return record(op, out, {x}, [=](const Tensor& g) -> std::vector<Tensor> {
    Tensor dx = zeros(in, g.dtype(), g.device());
    Tensor dx3 = dx.view(in3);
    Tensor g3 = detail::contiguous_raw(g).view(idx.shape());
    detail::kernel(&Kernels::scatter_add, g.device(), op)(g3, idx, dx3);
    return {dx};
  }, {idx3});  // the index may be the caller's own tensor: a write to it must not go unseen
}

}  // namespace

Tensor index_select(const Tensor& x, std::int64_t axis_in, const Tensor& index) {
  detail::check_defined(x, "index_select", "the input");
  detail::check_defined(index, "index_select", "the index");
  int axis = normalize_axis(axis_in, x.dim(), "index_select");
  detail::check_rank(index, 1, "index_select", "index");
  auto [o, n, i] = three(x.shape(), axis);
  std::int64_t m = index.shape()[0];
  Tensor idx = detail::contiguous_raw(as_i64(index, "index_select"));
  Tensor idx3 = idx.as_strided({o, m, i}, {0, 1, 0}, 0);
  Shape out_shape = x.shape();
  out_shape[axis] = m;
  return gather3(x, detail::contiguous_raw(x).view({o, n, i}), idx3, out_shape, "index_select");
}

Tensor gather(const Tensor& x, std::int64_t axis_in, const Tensor& index) {
  detail::check_defined(x, "gather", "the input");
  detail::check_defined(index, "gather", "the index");
  int axis = normalize_axis(axis_in, x.dim(), "gather");
  bool ok = index.dim() == x.dim();
  for (std::int64_t d = 0; ok && d < x.dim(); ++d) ok = d == axis || index.shape()[d] == x.shape()[d];
  if (!ok)
    fail<ShapeError>("gather expects an index shaped like the input except on axis ", axis, ", got input ",
                     shape_str(x.shape()), " and index ", shape_str(index.shape()));
  auto [o, n, i] = three(x.shape(), axis);
  Tensor idx3 = detail::contiguous_raw(as_i64(index, "gather")).view({o, index.shape()[axis], i});
  return gather3(x, detail::contiguous_raw(x).view({o, n, i}), idx3, index.shape(), "gather");
}

Tensor one_hot(const Tensor& labels, std::int64_t num_classes) {
  detail::check_defined(labels, "one_hot", "the labels");
  Tensor l = as_i64(labels, "one_hot");
  if (num_classes < 1) fail<ValueError>("one_hot expects num_classes >= 1, got ", num_classes);
  if (l.numel() > 0) {
    std::vector<std::int64_t> v = l.to_vector<std::int64_t>();
    auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    if (*lo < 0 || *hi >= num_classes)
      fail<IndexError>("one_hot expects labels in [0, ", num_classes - 1, "], got ", *lo < 0 ? *lo : *hi);
  }
  Tensor classes = arange(static_cast<double>(num_classes), DType::f64).to(labels.device());
  return eq(l.to(DType::f64).unsqueeze(-1), classes).to(DType::f32);
}

}  // namespace cortex
