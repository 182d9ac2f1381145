// concat, stack, split, pad: copies into and views of windows along an axis.
#include "cortex/ops/shape_ops.h"

#include "cortex/ops/creation.h"
#include "cortex/ops/elementwise.h"
#include "op_util.h"

namespace cortex {
using autograd::record;

namespace {

// The unrecorded window [start, start + len) of `t` along `axis`.
Tensor window(const Tensor& t, int axis, std::int64_t start, std::int64_t len) {
  Shape sh = t.shape();
  sh[axis] = len;
  return t.as_strided(sh, t.strides(), t.offset() + start * t.strides()[axis]);
}

// The first defined gradient of a multi-output node (a node runs only when one arrived).
const Tensor& first_defined(const std::vector<Tensor>& g) {
  for (const Tensor& t : g)
    if (t.defined()) return t;
  fail<AutogradError>("a multi-output node ran without any gradient");
}

// Split's and unbind's nodes save only shapes: a second backward through another piece may run them again.
std::vector<Tensor> reusable(std::vector<Tensor> pieces) {
  if (!pieces.empty() && pieces[0].grad_fn()) pieces[0].grad_fn()->set_reusable();
  return pieces;
}

}  // namespace

Tensor concat(const std::vector<Tensor>& tensors, std::int64_t axis_in) {
  if (tensors.empty()) fail<ValueError>("concat expects at least one tensor, got none");
  const Tensor& first = tensors[0];
  detail::check_defined(first, "concat", "tensor 0");
  int axis = normalize_axis(axis_in, first.dim(), "concat");
  Shape shape = first.shape();
  shape[axis] = 0;
  std::vector<std::int64_t> sizes;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    detail::check_defined(t, "concat", "every tensor");
    detail::check_same_dtype(first, t, "concat");
    detail::check_same_device(first, t, "concat");
    bool ok = t.dim() == first.dim();
    for (std::int64_t d = 0; ok && d < t.dim(); ++d) ok = d == axis || t.shape()[d] == first.shape()[d];
    if (!ok)
      fail<ShapeError>("concat expects shapes equal except on axis ", axis, ", got ", shape_str(first.shape()),
                       " and ", shape_str(t.shape()), " (tensor ", i, ")");
    sizes.push_back(t.shape()[axis]);
    shape[axis] += t.shape()[axis];
  }
  Tensor out = detail::alloc(shape, first.dtype(), first.device());
  std::int64_t off = 0;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    Tensor dst = window(out, axis, off, sizes[i]);
    detail::kernel(&Kernels::copy, out.device(), "concat")(tensors[i], dst);
    off += sizes[i];
  }
  return record("concat", out, tensors,
                [axis, sizes](const Tensor& g) -> std::vector<Tensor> { return split(g, sizes, axis); });
}

Tensor stack(const std::vector<Tensor>& tensors, std::int64_t axis) {
  if (tensors.empty()) fail<ValueError>("stack expects at least one tensor, got none");
  detail::check_defined(tensors[0], "stack", "tensor 0");
  int ax = normalize_axis(axis, tensors[0].dim() + 1, "stack");
  std::vector<Tensor> parts;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    if (tensors[i].shape() != tensors[0].shape())
      fail<ShapeError>("stack expects tensors of one shape, got ", shape_str(tensors[0].shape()), " and ",
                       shape_str(tensors[i].shape()), " (tensor ", i, ")");
    parts.push_back(tensors[i].unsqueeze(ax));
  }
  return concat(parts, ax);
}

std::vector<Tensor> split(const Tensor& x, const std::vector<std::int64_t>& sizes, std::int64_t axis_in) {
  detail::check_defined(x, "split", "the input");
  int axis = normalize_axis(axis_in, x.dim(), "split");
  std::int64_t total = 0;
  bool over = false;  // the sizes add up past the axis (checked as they go, so they cannot wrap)
  for (auto s : sizes) {
    if (s < 0) fail<ValueError>("split expects sizes >= 0, got ", s);
    over = over || s > x.shape()[axis] - total;
    if (!over) total += s;
  }
  if (over)
    fail<ShapeError>("split expects sizes adding up to ", x.shape()[axis], " (axis ", axis, " of ",
                     shape_str(x.shape()), "), got sizes adding up to more");
  if (total != x.shape()[axis])
    fail<ShapeError>("split expects sizes adding up to ", x.shape()[axis], " (axis ", axis, " of ",
                     shape_str(x.shape()), "), got ", total);
  // One node for all the pieces: its backward concatenates their gradients
  // (zeros for pieces nothing used), so splitting into T pieces costs O(T), not
  // T full-size gradients.
  std::vector<Tensor> out;
  std::int64_t start = 0;
  for (auto s : sizes) {
    out.push_back(window(x, axis, start, s));
    start += s;
  }
  return reusable(autograd::record_outputs("split", std::move(out), {x},
                                  [axis, sizes, dt = x.dtype(), in = x.shape()](const std::vector<Tensor>& g) {
                                    std::vector<Tensor> parts;
                                    for (std::size_t i = 0; i < g.size(); ++i) {
                                      Shape sh = in;
                                      sh[axis] = sizes[i];
                                      parts.push_back(g[i].defined() ? g[i] : zeros(sh, dt, first_defined(g).device()));
                                    }
                                    return std::vector<Tensor>{concat(parts, axis)};
                                  }));
}

std::vector<Tensor> unbind(const Tensor& x, std::int64_t axis_in) {
  detail::check_defined(x, "unbind", "the input");
  int axis = normalize_axis(axis_in, x.dim(), "unbind");
  Shape sh = x.shape();
  Strides st = x.strides();
  const std::int64_t n = sh[axis];
  sh.erase(sh.begin() + axis);
  st.erase(st.begin() + axis);
  std::vector<Tensor> out;
  for (std::int64_t i = 0; i < n; ++i) out.push_back(x.as_strided(sh, st, x.offset() + i * x.strides()[axis]));
  return reusable(autograd::record_outputs("unbind", std::move(out), {x},
                                  [axis, sh, dt = x.dtype()](const std::vector<Tensor>& g) {
                                    const Device device = first_defined(g).device();
                                    std::vector<Tensor> parts;
                                    for (const Tensor& gi : g) parts.push_back(gi.defined() ? gi : zeros(sh, dt, device));
                                    return std::vector<Tensor>{stack(parts, axis)};
                                  }));
}

std::vector<Tensor> chunk(const Tensor& x, std::int64_t parts, std::int64_t axis_in) {
  detail::check_defined(x, "chunk", "the input");
  int axis = normalize_axis(axis_in, x.dim(), "chunk");
  // An empty axis gives one empty part (not a list of 2^40 of them).
  if (parts < 1 || x.shape()[axis] % parts != 0 || parts > std::max<std::int64_t>(x.shape()[axis], 1))
    fail<ShapeError>("chunk expects a part count that divides axis ", axis, " of size ", x.shape()[axis],
                     x.shape()[axis] == 0 ? " (an empty axis makes 1 part)" : "", ", got ", parts);
  return split(x, std::vector<std::int64_t>(parts, x.shape()[axis] / parts), axis);
}

Tensor pad(const Tensor& x, const std::vector<std::pair<std::int64_t, std::int64_t>>& pads, double value) {
  detail::check_defined(x, "pad", "the input");
  if (static_cast<std::int64_t>(pads.size()) > x.dim())
    fail<ShapeError>("pad expects at most one (before, after) pair per axis (", x.dim(), "), got ", pads.size());
  Shape shape = x.shape();
  Shape offsets(x.dim(), 0);
  for (std::size_t i = 0; i < pads.size(); ++i) {
    if (pads[i].first < 0 || pads[i].second < 0)
      fail<ValueError>("pad expects non-negative pads, got (", pads[i].first, ", ", pads[i].second, ") on axis ", i);
    shape[i] += pads[i].first + pads[i].second;
    offsets[i] = pads[i].first;
  }
  Tensor out = full(shape, value, x.dtype(), x.device());
  std::int64_t off = 0;
  for (std::int64_t i = 0; i < x.dim(); ++i) off += offsets[i] * out.strides()[i];
  Tensor interior = out.as_strided(x.shape(), out.strides(), off);
  detail::kernel(&Kernels::copy, x.device(), "pad")(x, interior);
  Shape in = x.shape();
  return record("pad", out, {x}, [in, offsets](const Tensor& g) -> std::vector<Tensor> {
    Tensor w = g;
    for (std::size_t i = 0; i < in.size(); ++i) w = w.slice(static_cast<std::int64_t>(i), offsets[i], offsets[i] + in[i]);
    return {w};
  });
}

Tensor dropout(const Tensor& x, double rate, bool training, Generator& gen) {
  if (!(rate >= 0.0 && rate < 1.0)) fail<ValueError>("dropout expects a rate in [0, 1), got ", rate);
  detail::check_floating_or_bf16(x, "dropout");
  if (!training || rate == 0.0) return x;
  // Drawn where x lives, from the generator's Philox stream: the same mask on every device.
  // The mask holds 0 or 1 / keep, so one product applies it (and its gradient).
  Tensor mask = detail::alloc(x.shape(), x.dtype(), x.device());
  const std::uint64_t first = gen.reserve(static_cast<std::uint64_t>((x.numel() + 3) / 4));
  detail::kernel(&Kernels::bernoulli, x.device(), "dropout")(mask, 1.0 - rate, 1.0 / (1.0 - rate), gen.seed(), first);
  return x * mask;
}

}  // namespace cortex
