// View ops (Tensor members): new geometry over the same storage, each with
// the gradient rule that maps the view's gradient back to its base.
#include <algorithm>
#include <numeric>
#include <optional>

#include "cortex/autograd/grad_mode.h"
#include "cortex/ops/creation.h"
#include "op_util.h"

namespace cortex {
using autograd::record;
using detail::sum_to;

namespace {

// Strides for viewing (shape, strides) as `target` without a copy, or empty
// when impossible (the algorithm of numpy's _attempt_nocopy_reshape).
std::optional<Strides> view_strides(const Shape& shape, const Strides& strides, const Shape& target) {
  if (numel(target) == 0) return contiguous_strides(target);
  Shape os;
  Strides ost;
  for (std::size_t i = 0; i < shape.size(); ++i)
    if (shape[i] != 1) { os.push_back(shape[i]); ost.push_back(strides[i]); }
  Strides out(target.size(), 1);
  std::size_t oi = 0, oj = 1, ni = 0, nj = 1;
  std::size_t on = os.size(), nn = target.size();
  while (ni < nn && oi < on) {
    std::int64_t np = target[ni], op = os[oi];
    while (np != op) {
      if (np < op) np *= target[nj++];
      else op *= os[oj++];
    }
    for (std::size_t k = oi; k + 1 < oj; ++k)
      if (ost[k] != os[k + 1] * ost[k + 1]) return std::nullopt;
    out[nj - 1] = ost[oj - 1];
    for (std::size_t k = nj - 1; k > ni; --k) out[k - 1] = out[k] * target[k];
    ni = nj++;
    oi = oj++;
  }
  for (std::size_t k = ni; k < nn; ++k) out[k] = 1;  // trailing size-1 axes
  return out;
}

Shape infer_shape(const Shape& target, std::int64_t n, const char* op, const Shape& from) {
  Shape out = target;
  std::int64_t known = 1, infer = -1;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      if (infer >= 0) fail<ShapeError>(op, " accepts at most one -1 in the shape, got ", shape_str(target));
      infer = static_cast<std::int64_t>(i);
    } else if (out[i] < 0) {
      fail<ShapeError>(op, " expects sizes >= 0 or -1, got ", shape_str(target));
    } else if (__builtin_mul_overflow(known, std::max<std::int64_t>(out[i], 1), &known)) {
      fail<ShapeError>(op, " expects a shape whose sizes multiply to under 2^63, got ", shape_str(target));
    }
  }
  if (std::find(out.begin(), out.end(), 0) != out.end()) known = 0;
  if (infer >= 0) {
    if (known == 0 || n % known != 0)
      fail<ShapeError>(op, " cannot infer the -1 in ", shape_str(target), " for ", n, " elements (shape ",
                       shape_str(from), ")");
    out[infer] = n / known;
  }
  if (numel(out) != n)
    fail<ShapeError>(op, " cannot make shape ", shape_str(from), " (", n, " elements) into ", shape_str(target),
                     " (", numel(out), " elements)");
  return out;
}

}  // namespace

Tensor Tensor::view(const Shape& target) const {
  Shape shape_out = infer_shape(target, numel(), "view", shape());
  auto st = view_strides(shape(), strides(), shape_out);
  if (!st)
    fail<ShapeError>("view cannot give shape ", shape_str(shape_out), " to a tensor of shape ", shape_str(shape()),
                     " with strides ", shape_str(strides()), " without a copy; use reshape()");
  Shape in = shape();
  return record("view", as_strided(shape_out, *st, offset()), {*this},
                [in](const Tensor& g) -> std::vector<Tensor> { return {g.reshape(in)}; });
}

Tensor Tensor::reshape(const Shape& target) const {
  Shape shape_out = infer_shape(target, numel(), "reshape", shape());
  if (view_strides(shape(), strides(), shape_out)) return view(shape_out);
  return contiguous().view(shape_out);
}

Tensor Tensor::flatten(std::int64_t start_axis, std::int64_t end_axis) const {
  if (dim() == 0) return reshape({1});
  int s = normalize_axis(start_axis, dim(), "flatten"), e = normalize_axis(end_axis, dim(), "flatten");
  if (s > e) fail<IndexError>("flatten expects start_axis <= end_axis, got ", s, " and ", e);
  Shape out(shape().begin(), shape().begin() + s);
  std::int64_t n = 1;
  for (int i = s; i <= e; ++i) n *= shape()[i];
  out.push_back(n);
  out.insert(out.end(), shape().begin() + e + 1, shape().end());
  return reshape(out);
}

Tensor Tensor::permute(const std::vector<std::int64_t>& axes) const {
  if (static_cast<std::int64_t>(axes.size()) != dim())
    fail<ShapeError>("permute expects ", dim(), " axes for shape ", shape_str(shape()), ", got ", axes.size());
  std::vector<std::int64_t> perm = detail::normalize_axes(axes, dim(), "permute");  // validates
  Shape sh(dim());
  Strides st(dim());
  std::vector<std::int64_t> inverse(dim());
  for (std::int64_t i = 0; i < dim(); ++i) {
    int a = normalize_axis(axes[i], dim(), "permute");
    sh[i] = shape()[a];
    st[i] = strides()[a];
    inverse[a] = i;
  }
  return record("permute", as_strided(sh, st, offset()), {*this},
                [inverse](const Tensor& g) -> std::vector<Tensor> { return {g.permute(inverse)}; });
}

Tensor Tensor::transpose(std::int64_t a, std::int64_t b) const {
  std::vector<std::int64_t> perm(dim());
  std::iota(perm.begin(), perm.end(), 0);
  std::swap(perm[normalize_axis(a, dim(), "transpose")], perm[normalize_axis(b, dim(), "transpose")]);
  return permute(perm);
}

Tensor Tensor::slice(std::int64_t axis, std::int64_t start, std::int64_t end, std::int64_t step) const {
  int ax = normalize_axis(axis, dim(), "slice");
  if (step <= 0) fail<ValueError>("slice expects a positive step, got ", step);
  std::int64_t n = shape()[ax];
  auto clampi = [n](std::int64_t i) { return std::clamp<std::int64_t>(i < 0 ? i + n : i, 0, n); };
  std::int64_t s = clampi(start), e = std::max(clampi(end), s);
  Shape sh = shape();
  Strides st = strides();
  sh[ax] = e > s ? (e - s - 1) / step + 1 : 0;
  st[ax] *= step;
  Shape in = shape();
  DType dt = dtype();
  return record("slice", as_strided(sh, st, offset() + s * strides()[ax]), {*this},
                [=](const Tensor& g) -> std::vector<Tensor> {
                  Tensor dx = zeros(in, dt, g.device());
                  Strides dst = dx.strides();
                  Shape gs = g.shape();
                  dst[ax] *= step;
                  Tensor window = dx.as_strided(gs, dst, s * dx.strides()[ax]);
                  window.copy_(g);
                  return {dx};
                });
}

Tensor Tensor::select(std::int64_t axis, std::int64_t index) const {
  int ax = normalize_axis(axis, dim(), "select");
  std::int64_t n = shape()[ax];
  if (index < -n || index >= n)
    fail<IndexError>("select expects an index in [", -n, ", ", n - 1, "] on axis ", ax, " of shape ",
                     shape_str(shape()), ", got ", index);
  std::int64_t i = index < 0 ? index + n : index;
  return slice(ax, i, i + 1).squeeze(ax);
}

Tensor Tensor::squeeze() const {
  Shape sh;
  for (auto d : shape())
    if (d != 1) sh.push_back(d);
  return reshape(sh);
}

Tensor Tensor::squeeze(std::int64_t axis) const {
  int ax = normalize_axis(axis, dim(), "squeeze");
  if (shape()[ax] != 1)
    fail<ShapeError>("squeeze expects axis ", ax, " of size 1, got size ", shape()[ax], " in shape ",
                     shape_str(shape()));
  Shape sh = shape();
  sh.erase(sh.begin() + ax);
  return reshape(sh);
}

Tensor Tensor::unsqueeze(std::int64_t axis) const {
  int ax = normalize_axis(axis, dim() + 1, "unsqueeze");
  Shape sh = shape();
  sh.insert(sh.begin() + ax, 1);
  return reshape(sh);
}

Tensor Tensor::expand(const Shape& target) const {
  Shape in = shape();
  Shape out = target;
  std::int64_t lead = static_cast<std::int64_t>(out.size()) - dim();
  if (lead < 0)
    fail<ShapeError>("expand cannot lower the rank: shape ", shape_str(in), " to ", shape_str(target));
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(out.size()); ++i) {
    if (out[i] == -1 && i >= lead) out[i] = in[i - lead];
    if (out[i] < 0)
      fail<ShapeError>("expand expects sizes >= 0 (or -1 to keep an existing axis), got ", shape_str(target));
  }
  return record("expand", detail::expand_raw(*this, out), {*this},
                [in](const Tensor& g) -> std::vector<Tensor> { return {sum_to(g, in)}; });
}

}  // namespace cortex
