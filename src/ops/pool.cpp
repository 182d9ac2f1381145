// Max and average pooling (oneDNN on the cpu backend) and global average pooling.
#include "cortex/ops/pool.h"

#include "cortex/ops/reduce.h"
#include "op_util.h"

namespace cortex {
using autograd::record;
using autograd::save;
using backend::PoolKind;
using backend::Pool2dParams;

namespace {

Tensor pool(PoolKind kind, const Tensor& x, const Pool2dOptions& o) {
  const char* op = kind == PoolKind::max ? "max_pool2d" : "avg_pool2d";
  detail::check_defined(x, op, "the input");
  detail::check_floating_or_bf16(x, op);
  detail::check_rank(x, 4, op, "NHWC input");
  Pool2dParams p;
  p.kind = kind;
  p.kernel_h = o.pool_size[0];
  p.kernel_w = o.pool_size[1];
  p.stride_h = o.strides[0] == 0 ? p.kernel_h : o.strides[0];
  p.stride_w = o.strides[1] == 0 ? p.kernel_w : o.strides[1];
  if (p.kernel_h < 1 || p.kernel_w < 1 || p.stride_h < 1 || p.stride_w < 1)
    fail<ValueError>(op, " expects pool sizes and strides >= 1, got pool ", p.kernel_h, "x", p.kernel_w,
                     ", strides ", p.stride_h, "x", p.stride_w);
  std::int64_t n = x.shape()[0], h = x.shape()[1], w = x.shape()[2], c = x.shape()[3];
  std::int64_t oh, ow;
  if (h < 1 || w < 1)
    fail<ShapeError>(op, " expects a non-empty image, got shape ", shape_str(x.shape()));
  if (o.padding == "same") {
    oh = (h + p.stride_h - 1) / p.stride_h;
    ow = (w + p.stride_w - 1) / p.stride_w;
    std::tie(p.pad_top, p.pad_bottom) = detail::same_pads(h, p.kernel_h, p.stride_h);
    std::tie(p.pad_left, p.pad_right) = detail::same_pads(w, p.kernel_w, p.stride_w);
  } else if (o.padding == "valid") {
    if (h < p.kernel_h || w < p.kernel_w)
      fail<ShapeError>(op, " expects an input at least the pool size ", p.kernel_h, "x", p.kernel_w,
                       " with valid padding, got shape ", shape_str(x.shape()));
    oh = (h - p.kernel_h) / p.stride_h + 1;
    ow = (w - p.kernel_w) / p.stride_w + 1;
  } else {
    fail<ValueError>(op, " expects padding \"valid\" or \"same\", got \"", o.padding, "\"");
  }
  Tensor xc = detail::contiguous_raw(x);
  Tensor y = detail::alloc({n, oh, ow, c}, x.dtype(), x.device());
  bool train = autograd::needs_grad({&x});
  Tensor workspace;
  detail::kernel(&Kernels::pool2d, x.device(), op)(p, xc, y, train && kind == PoolKind::max ? &workspace : nullptr);
  Tensor xs = save(xc);
  // The workspace's format belongs to the backend that made it: the backward
  // runs there too, whatever BackendScope is active by then.
  backend::Backend made_by = backend::backend_for(x.device());
  return record(op, y, {x}, [=](const Tensor& g) -> std::vector<Tensor> {
    auto kernel = backend::kernels(made_by).pool2d_backward;
    if (kernel == nullptr) backend::missing_kernel(op, made_by);
    Tensor dx = detail::alloc(xs.shape(), xs.dtype(), xs.device());
    kernel(p, xs, detail::contiguous_raw(g), workspace, dx);
    return {dx};
  });
}

}  // namespace

Tensor max_pool2d(const Tensor& x, const Pool2dOptions& o) { return pool(PoolKind::max, x, o); }
Tensor avg_pool2d(const Tensor& x, const Pool2dOptions& o) { return pool(PoolKind::avg, x, o); }

Tensor global_avg_pool2d(const Tensor& x) {
  detail::check_defined(x, "global_avg_pool2d", "the input");
  detail::check_rank(x, 4, "global_avg_pool2d", "NHWC input");
  return mean(x, {1, 2});
}

}  // namespace cortex
