// cpu 2-D max and average pooling on oneDNN (f32, NHWC in place, no reorders)
// and their gradients. The max-pool workspace is oneDNN's own: a u8 tensor
// holding its bytes, which only the cpu backward understands.
#include <cstdint>
#include <string>
#include <unordered_map>

#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/dnnl_context.h"

namespace cortex::backend::cpu {
namespace {

using dnnl::memory;
using dnnl::prop_kind;

// True when x: (N, H, W, C) and y: (N, OH, OW, C) fit under p, f32 and
// contiguous, and every window holds at least one input cell. Anything else
// goes to the reference kernel, which names what is wrong.
bool fast_geometry(const Pool2dParams& p, const Tensor& x, const Tensor& y) {
  for (const Tensor* t : {&x, &y})
    if (t->dim() != 4 || t->dtype() != DType::f32 || !t->is_contiguous() || t->numel() == 0)
      return false;
  if (p.kernel_h < 1 || p.kernel_w < 1 || p.stride_h < 1 || p.stride_w < 1 || p.pad_top < 0 ||
      p.pad_bottom < 0 || p.pad_left < 0 || p.pad_right < 0)
    return false;
  const Shape &xs = x.shape(), &ys = y.shape();
  const std::int64_t in_h = xs[1] + p.pad_top + p.pad_bottom,
                     in_w = xs[2] + p.pad_left + p.pad_right;
  if (in_h < p.kernel_h || in_w < p.kernel_w) return false;
  const std::int64_t OH = (in_h - p.kernel_h) / p.stride_h + 1,
                     OW = (in_w - p.kernel_w) / p.stride_w + 1;
  if (ys != Shape{xs[0], OH, OW, xs[3]}) return false;
  // The first and the last window of each axis reach into the input.
  return p.pad_top < p.kernel_h && p.pad_left < p.kernel_w &&
         (OH - 1) * p.stride_h - p.pad_top < xs[1] && (OW - 1) * p.stride_w - p.pad_left < xs[2];
}

dnnl::algorithm pool_algorithm(const Pool2dParams& p) {
  // Keras's average divides by the cells inside the input.
  return p.kind == PoolKind::max ? dnnl::algorithm::pooling_max
                                 : dnnl::algorithm::pooling_avg_exclude_padding;
}

std::string pool_key(const char* op, const Pool2dParams& p, const Shape& x, bool training) {
  return key(op, static_cast<int>(p.kind), x, p.kernel_h, p.kernel_w, p.stride_h, p.stride_w,
             p.pad_top, p.pad_bottom, p.pad_left, p.pad_right, training);
}

dnnl::pooling_forward::primitive_desc forward_pd(const Pool2dParams& p, const Shape& x,
                                                 const Shape& y, bool training) {
  return dnnl::pooling_forward::primitive_desc(
      dnnl::pooling_forward::desc(
          training ? prop_kind::forward_training : prop_kind::forward_inference, pool_algorithm(p),
          nhwc_desc(x), nhwc_desc(y), {p.stride_h, p.stride_w}, {p.kernel_h, p.kernel_w},
          {p.pad_top, p.pad_left}, {p.pad_bottom, p.pad_right}),
      engine());
}

std::string describe(const Pool2dParams& p, const Tensor& x, const Tensor& y) {
  return cortex::detail::cat(p.kind == PoolKind::max ? "max" : "avg", " pooling of x ",
                             shape_str(x.shape()), " into ", shape_str(y.shape()), ", kernel (",
                             p.kernel_h, ", ", p.kernel_w, "), stride (", p.stride_h, ", ",
                             p.stride_w, "), pads (", p.pad_top, ", ", p.pad_bottom, ", ",
                             p.pad_left, ", ", p.pad_right, ")");
}

struct ForwardEntry {
  dnnl::pooling_forward prim;
  memory::desc workspace;  // zero-sized unless training max pooling
};

struct BackwardEntry {
  dnnl::pooling_forward::primitive_desc hint;
  dnnl::pooling_backward prim;
  memory::desc workspace;
};

std::shared_ptr<const ForwardEntry> forward_entry(const Pool2dParams& p, const Shape& x,
                                                  const Shape& y, bool training) {
  return cached<ForwardEntry>(pool_key("pool_fwd", p, x, training), [&] {
    const auto pd = forward_pd(p, x, y, training);
    return ForwardEntry{dnnl::pooling_forward(pd), pd.workspace_desc()};
  });
}

}  // namespace

// x: (N, H, W, C) -> y: (N, OH, OW, C); for max pooling with workspace != null,
// *workspace becomes a u8 tensor (nbytes) of oneDNN's workspace.
void pool2d(const Pool2dParams& p, const Tensor& x, Tensor& y, Tensor* workspace) {
  if (!fast_geometry(p, x, y)) return ref_kernel(&Kernels::pool2d, "pool2d")(p, x, y, workspace);
  const bool training = p.kind == PoolKind::max && workspace != nullptr;
  run_dnnl(
      "pool2d", [&] { return describe(p, x, y); },
      [&] {
        const auto e = forward_entry(p, x.shape(), y.shape(), training);
        std::unordered_map<int, memory> args{
            {DNNL_ARG_SRC, memory(nhwc_desc(x.shape()), engine(), handle(x))},
            {DNNL_ARG_DST, memory(nhwc_desc(y.shape()), engine(), handle(y))}};
        if (training) {
          *workspace =
              Tensor::empty({static_cast<std::int64_t>(e->workspace.get_size())}, DType::u8);
          args.emplace(DNNL_ARG_WORKSPACE, memory(e->workspace, engine(), handle(*workspace)));
        }
        e->prim.execute(stream(), args);
      });
}

namespace {

std::shared_ptr<const BackwardEntry> backward_entry(const Pool2dParams& p, const Shape& x,
                                                    const Shape& y) {
  return cached<BackwardEntry>(pool_key("pool_bwd", p, x, true), [&] {
    const auto hint = forward_pd(p, x, y, true);
    const dnnl::pooling_backward::primitive_desc pd(
        dnnl::pooling_backward::desc(pool_algorithm(p), nhwc_desc(x), nhwc_desc(y),
                                     {p.stride_h, p.stride_w}, {p.kernel_h, p.kernel_w},
                                     {p.pad_top, p.pad_left}, {p.pad_bottom, p.pad_right}),
        engine(), hint);
    return BackwardEntry{hint, dnnl::pooling_backward(pd), hint.workspace_desc()};
  });
}

// The max-pool workspace bytes (nbytes) for the backward: the caller's, after
// checking it is the cpu forward's, or recomputed from x into scratch.
void* max_workspace(const Pool2dParams& p, const Tensor& x, const Shape& y, const Tensor& workspace,
                    std::size_t nbytes) {
  if (workspace.defined()) {
    if (workspace.dtype() != DType::u8 || workspace.dim() != 1 || !workspace.is_contiguous() ||
        workspace.numel() != static_cast<std::int64_t>(nbytes))
      fail<ValueError>("cpu max-pool backward expects the workspace of the cpu forward (u8, ",
                       nbytes, " bytes), got ", dtype_name(workspace.dtype()), " ",
                       shape_str(workspace.shape()));
    return handle(workspace);
  }
  const auto f = forward_entry(p, x.shape(), y, true);
  void* ws = scratch(0, nbytes);
  void* y_scratch = scratch(1, static_cast<std::size_t>(numel(y)) * sizeof(float));
  f->prim.execute(stream(), {{DNNL_ARG_SRC, memory(nhwc_desc(x.shape()), engine(), handle(x))},
                             {DNNL_ARG_DST, memory(nhwc_desc(y), engine(), y_scratch)},
                             {DNNL_ARG_WORKSPACE, memory(f->workspace, engine(), ws)}});
  return ws;
}

}  // namespace

// x: (N, H, W, C), dy: (N, OH, OW, C), workspace: what pool2d wrote (max; when
// undefined the max positions are recomputed from x) -> dx: (N, H, W, C).
void pool2d_backward(const Pool2dParams& p, const Tensor& x, const Tensor& dy,
                     const Tensor& workspace, Tensor& dx) {
  const bool fits = fast_geometry(p, x, dy) && dx.dtype() == DType::f32 && dx.is_contiguous() &&
                    dx.shape() == x.shape();
  if (!fits)
    return ref_kernel(&Kernels::pool2d_backward, "pool2d_backward")(p, x, dy, workspace, dx);
  run_dnnl(
      "pool2d_backward", [&] { return describe(p, x, dy); },
      [&] {
        const auto e = backward_entry(p, x.shape(), dy.shape());
        std::unordered_map<int, memory> args{
            {DNNL_ARG_DIFF_DST, memory(nhwc_desc(dy.shape()), engine(), handle(dy))},
            {DNNL_ARG_DIFF_SRC, memory(nhwc_desc(dx.shape()), engine(), handle(dx))}};
        if (p.kind == PoolKind::max) {
          void* ws = max_workspace(p, x, dy.shape(), workspace, e->workspace.get_size());
          args.emplace(DNNL_ARG_WORKSPACE, memory(e->workspace, engine(), ws));
        }
        e->prim.execute(stream(), args);
      });
}

}  // namespace cortex::backend::cpu
