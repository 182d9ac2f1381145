// matmul and linear: batch axes are folded so the kernel sees (B, M, K) x (B, K, N).
#include "cortex/ops/matmul.h"

#include "cortex/autograd/grad_mode.h"
#include "cortex/ops/elementwise.h"
#include "cortex/ops/reduce.h"
#include "op_util.h"

namespace cortex {
using autograd::record;
using autograd::save;

namespace {

// A rank-3 view (1, rows, cols) of a matrix, or the tensor itself if rank 3.
Tensor as3d(const Tensor& t) {
  if (t.dim() == 3) return t;
  return t.as_strided({1, t.shape()[0], t.shape()[1]}, {0, t.strides()[0], t.strides()[1]}, t.offset());
}

// Unrecorded product. a: (..., M, K), b: (..., K, N) with rank >= 2.
Tensor matmul_raw(const Tensor& a, const Tensor& b, const Tensor* bias) {
  std::int64_t m = a.shape()[a.dim() - 2], k = a.shape().back(), n = b.shape().back();
  if (b.dim() == 2) {  // fold a's batch into rows: one big GEMM
    Tensor a2 = a.dim() == 2 ? a : detail::as_rows(detail::contiguous_raw(a), k);
    Tensor out = detail::alloc({a2.shape()[0], n}, a.dtype(), a.device());
    Tensor out3 = as3d(out);
    detail::kernel(&Kernels::matmul, a.device(), "matmul")(as3d(a2), as3d(b), bias, out3);
    Shape shape(a.shape().begin(), a.shape().end() - 1);
    shape.push_back(n);
    return out.view(shape);
  }
  Shape batch_a(a.shape().begin(), a.shape().end() - 2), batch_b(b.shape().begin(), b.shape().end() - 2);
  Shape batch = broadcast_shapes(batch_a, batch_b, "matmul");
  Shape sa = batch, sb = batch;
  sa.insert(sa.end(), {m, k});
  sb.insert(sb.end(), {k, n});
  std::int64_t nb = numel(batch);
  auto fold = [nb](const Tensor& t, const Shape& s) {
    Tensor e = detail::expand_raw(t, s);
    if (s.size() == 3) return e;
    return detail::contiguous_raw(e).view({nb, s[s.size() - 2], s.back()});
  };
  Tensor out = detail::alloc({nb, m, n}, a.dtype(), a.device());
  detail::kernel(&Kernels::matmul, a.device(), "matmul")(fold(a, sa), fold(b, sb), bias, out);
  Shape shape = batch;
  shape.insert(shape.end(), {m, n});
  return out.view(shape);
}

void check_matmul(const Tensor& a, const Tensor& b, const char* op) {
  detail::check_floating_or_bf16(a, op);
  detail::check_floating_or_bf16(b, op);
  detail::check_same_dtype(a, b, op);
  detail::check_same_device(a, b, op);
}

Tensor matmul_nd(const Tensor& a, const Tensor& b) {
  std::int64_t k = a.shape().back();
  if (b.shape()[b.dim() - 2] != k)
    fail<ShapeError>("matmul expects a: (..., M, K) and b: (..., K, N) with equal K, got ", shape_str(a.shape()),
                     " and ", shape_str(b.shape()));
  Tensor out = matmul_raw(a, b, nullptr);
  Tensor as = save(a), bs = save(b);
  bool na = a.requires_grad(), nbg = b.requires_grad();
  return record("matmul", out, {a, b}, [=](const Tensor& g) -> std::vector<Tensor> {
    Tensor da, db;
    if (na) da = detail::sum_to(matmul_raw(g, bs.transpose(-1, -2), nullptr), as.shape());
    if (nbg) {
      if (bs.dim() == 2) {  // (K, rows) x (rows, N) over a's folded batch
        Tensor a2 = detail::as_rows(detail::contiguous_raw(as), k);
        Tensor g2 = detail::as_rows(detail::contiguous_raw(g), bs.shape()[1]);
        db = matmul_raw(a2.transpose(0, 1), g2, nullptr);
      } else {
        db = detail::sum_to(matmul_raw(as.transpose(-1, -2), g, nullptr), bs.shape());
      }
    }
    return {da, db};
  });
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  detail::check_defined(a, "matmul", "a");
  detail::check_defined(b, "matmul", "b");
  if (detail::autocast_applies({&a, &b}))  // in bf16, and the product stays bf16
    return matmul(detail::to_bf16_if_autocast(a), detail::to_bf16_if_autocast(b));
  check_matmul(a, b, "matmul");
  if (a.dim() == 0 || b.dim() == 0)
    fail<ShapeError>("matmul expects operands of rank >= 1, got shapes ", shape_str(a.shape()), " and ",
                     shape_str(b.shape()));
  if (a.dim() == 1 && b.dim() == 1) return matmul_nd(a.unsqueeze(0), b.unsqueeze(1)).reshape({});
  if (a.dim() == 1) return matmul_nd(a.unsqueeze(0), b).squeeze(-2);
  if (b.dim() == 1) return matmul_nd(a, b.unsqueeze(1)).squeeze(-1);
  return matmul_nd(a, b);
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b) {
  detail::check_defined(x, "linear", "x");
  detail::check_defined(w, "linear", "the weight");
  if (detail::autocast_applies({&x, &w, &b}))  // bias included; the output stays bf16
    return linear(detail::to_bf16_if_autocast(x), detail::to_bf16_if_autocast(w), detail::to_bf16_if_autocast(b));
  check_matmul(x, w, "linear");
  if (w.dim() != 2 || x.dim() < 1 || x.shape().back() != w.shape()[0])
    fail<ShapeError>("linear expects x: (..., in) and w: (in, out), got ", shape_str(x.shape()), " and ",
                     shape_str(w.shape()));
  std::int64_t out_features = w.shape()[1];
  if (b.defined()) {
    check_matmul(x, b, "linear");
    if (b.dim() != 1 || b.shape()[0] != out_features)
      fail<ShapeError>("linear expects a bias of shape [", out_features, "], got ", shape_str(b.shape()));
  }
  Tensor bc = b.defined() ? detail::contiguous_raw(b) : Tensor();
  Tensor x2 = x.dim() == 1 ? x.detach().view({1, x.shape()[0]}) : x.detach();
  Tensor out = matmul_raw(x2, w.detach(), b.defined() ? &bc : nullptr);
  if (x.dim() == 1) out = out.view({out_features});
  Tensor xs = save(x), ws = save(w);
  bool nx = x.requires_grad(), nw = w.requires_grad(), nbias = b.defined() && b.requires_grad();
  return record("linear", out, {x, w, b}, [=](const Tensor& g) -> std::vector<Tensor> {
    Tensor g2 = detail::as_rows(detail::contiguous_raw(g), out_features);
    Tensor dx, dw, db;
    if (nx) dx = matmul_raw(g2, ws.transpose(0, 1), nullptr).view(xs.shape());
    if (nw) dw = matmul_raw(detail::as_rows(detail::contiguous_raw(xs), ws.shape()[0]).transpose(0, 1), g2, nullptr);
    if (nbias) db = sum(g2, {0});
    return {dx, dw, db};
  });
}

}  // namespace cortex
