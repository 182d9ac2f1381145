// Merge layers: Add, Subtract, Multiply, Average, Maximum, Concatenate, Dot.
#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "cortex/nn/functional.h"
#include "cortex/ops/creation.h"
#include "cortex/ops/elementwise.h"
#include "cortex/ops/matmul.h"
#include "cortex/ops/reduce.h"
#include "cortex/ops/shape_ops.h"

namespace cortex::nn {

Tensor Merge::forward(const Tensor&) {
  fail<ValueError>(type(), " '", name(), "' merges several inputs: call it on a list of tensors");
}

Outputs Merge::call_impl(const Call& c) {
  const std::size_t need = type() == "Subtract" || type() == "Dot" ? 2 : 0;
  if (c.inputs.size() < 2 || (need && c.inputs.size() != need))
    fail<ValueError>(type(), " '", name(), "' expects ", need ? "exactly 2" : "at least 2", " inputs, got ",
                     c.inputs.size());
  const bool concat = type() == "Concatenate";
  if (!concat && type() != "Dot")
    for (const Tensor& x : c.inputs)
      if (x.shape() != c.inputs[0].shape())
        fail<ShapeError>(type(), " '", name(), "' expects inputs of one shape, got ", shape_str(c.inputs[0].shape()),
                         " and ", shape_str(x.shape()));
  // A step is real in the output when it is real in every input (a missing mask: all real).
  Tensor mask;
  const bool any_mask = std::any_of(c.masks.begin(), c.masks.end(), [](const Tensor& m) { return m.defined(); });
  auto* cat = dynamic_cast<const Concatenate*>(this);
  if (any_mask && cat && (cat->axis() == 1 || cat->axis() == 1 - c.inputs[0].dim())) {
    std::vector<Tensor> parts;  // joined along time, as the inputs are
    for (std::size_t i = 0; i < c.inputs.size(); ++i)
      parts.push_back(c.masks[i].defined() ? c.masks[i].to(DType::f32)
                                           : ones({c.inputs[i].shape()[0], c.inputs[i].shape()[1]}, DType::f32,
                                                  c.inputs[i].device()));
    Tensor joined = cortex::concat(parts, 1);
    mask = gt(joined, zeros_like(joined));
  } else {
    for (const Tensor& m : c.masks) {
      if (!m.defined()) continue;
      if (!mask.defined()) {
        mask = m;
        continue;
      }
      Tensor both = minimum(mask.to(DType::f32), m.to(DType::f32));
      mask = gt(both, zeros_like(both));
    }
  }
  if (type() == "Dot") mask = Tensor();
  return {{merge(c.inputs)}, {mask}};
}

Tensor Add::merge(const std::vector<Tensor>& xs) {
  Tensor y = xs[0];
  for (std::size_t i = 1; i < xs.size(); ++i) y = y + xs[i];
  return y;
}
Tensor Subtract::merge(const std::vector<Tensor>& xs) { return xs[0] - xs[1]; }
Tensor Multiply::merge(const std::vector<Tensor>& xs) {
  Tensor y = xs[0];
  for (std::size_t i = 1; i < xs.size(); ++i) y = y * xs[i];
  return y;
}
Tensor Average::merge(const std::vector<Tensor>& xs) {
  Tensor sum_of = xs[0];
  for (std::size_t i = 1; i < xs.size(); ++i) sum_of = sum_of + xs[i];
  return sum_of / static_cast<double>(xs.size());
}
Tensor Maximum::merge(const std::vector<Tensor>& xs) {
  Tensor y = xs[0];
  for (std::size_t i = 1; i < xs.size(); ++i) y = maximum(y, xs[i]);
  return y;
}

std::string Concatenate::config_json() const { return nlohmann::json{{"axis", axis_}}.dump(); }
Tensor Concatenate::merge(const std::vector<Tensor>& xs) {
  if (axis_ == 0) fail<ValueError>("Concatenate '", name(), "' cannot join along the batch axis (axis 0)");
  return concat(xs, axis_);
}

Dot::Dot(std::array<std::int64_t, 2> axes, bool normalize) : Merge("Dot"), axes_(axes), normalize_(normalize) {}
std::string Dot::config_json() const { return nlohmann::json{{"axes", axes_}, {"normalize", normalize_}}.dump(); }

Tensor Dot::merge(const std::vector<Tensor>& in) {
  Tensor a = in[0], b = in[1];
  if (a.dim() < 2 || a.dim() > 3 || b.dim() != a.dim())
    fail<ShapeError>("Dot '", name(), "' expects two inputs of rank 2 or 3 (batch first), got ", shape_str(a.shape()),
                     " and ", shape_str(b.shape()));
  auto axis = [&](std::int64_t ax, const Tensor& t) { return ax < 0 ? ax + t.dim() : ax; };
  const std::int64_t ax = axis(axes_[0], a), bx = axis(axes_[1], b);
  if (ax < 1 || ax >= a.dim() || bx < 1 || bx >= b.dim() || a.shape()[ax] != b.shape()[bx])
    fail<ShapeError>("Dot '", name(), "' expects axes (", axes_[0], ", ", axes_[1], ") of equal size past the batch "
                     "axis, got ", shape_str(a.shape()), " and ", shape_str(b.shape()));
  if (normalize_) {  // cosine similarity: unit vectors along the dotted axes
    a = a / sqrt(sum(a * a, {ax}, true) + 1e-12);
    b = b / sqrt(sum(b * b, {bx}, true) + 1e-12);
  }
  if (a.dim() == 2) return sum(a * b, {1}, true);  // (N, 1)
  // (N, T, D) x (N, S, D) -> (N, T, S) as a batched product.
  Tensor left = ax == 2 ? a : a.transpose(1, 2);    // (N, T, D)
  Tensor right = bx == 1 ? b : b.transpose(1, 2);   // (N, D, S)
  return matmul(left, right);
}

}  // namespace cortex::nn
