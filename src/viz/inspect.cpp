// Looking inside a network: filters, feature maps, saliency and occlusion.
#include "cortex/viz/inspect.h"

#include <algorithm>
#include <cmath>

#include "cortex/autograd/grad_mode.h"
#include "cortex/ops/activation.h"
#include "cortex/ops/elementwise.h"
#include "cortex/ops/reduce.h"
#include "cortex/ops/shape_ops.h"
#include "checks.h"

namespace cortex::viz {
namespace {

bool is_conv(const nn::Module& m) { return m.type() == "Conv2D"; }

// x: (1, H, W, C) f32 on the network's device, checked.
Tensor single_image(const Tensor& x, const char* what) {
  if (!x.defined() || x.dim() != 4 || x.size(0) != 1)
    fail<ShapeError>(what, " expects one image (1, H, W, C), got ", shape_or_undefined(x));
  return x.detach().to(DType::f32);
}

// Runs f with the network in evaluation mode, restoring its mode afterwards.
template <typename F>
auto in_eval_mode(nn::Module& net, F f) {
  struct Restore {
    nn::Module& net;
    bool training;
    ~Restore() { net.train(training); }
  } restore{net, net.is_training()};
  net.eval();
  return f();
}

// (H, W) map -> viridis picture (H*scale, W*scale, 3).
Tensor heat(const Tensor& map, std::int64_t scale) {
  return tile_grid(normalize01(map).unsqueeze(0).unsqueeze(-1), {.scale = scale, .border = 0, .colormap = true});
}

// The mean of two pictures of one size, pixel by pixel.
Tensor blend(const Tensor& a, const Tensor& b) {
  Tensor out = Tensor::empty(a.shape(), DType::u8);
  const std::uint8_t *p = a.data<std::uint8_t>(), *q = b.data<std::uint8_t>();
  std::uint8_t* o = out.data<std::uint8_t>();
  for (std::int64_t i = 0; i < out.numel(); ++i) o[i] = static_cast<std::uint8_t>((p[i] + q[i] + 1) / 2);
  return out;
}

// Where the occluder goes over an h x w image: rows x cols positions.
struct OccluderGrid {
  std::int64_t rows, cols;
};

OccluderGrid occluder_grid(std::int64_t h, std::int64_t w, const OcclusionOptions& o) {
  if (o.patch < 1 || o.patch > std::min(h, w) || o.stride < 1 || o.batch_size < 1)
    fail<ValueError>("occlusion expects 1 <= patch <= ", std::min(h, w), ", stride >= 1 and batch_size >= 1, got patch ",
                     o.patch, ", stride ", o.stride, ", batch_size ", o.batch_size);
  return {(h - o.patch) / o.stride + 1, (w - o.patch) / o.stride + 1};
}

// batch: (B, H, W, C) -> (B) probability of class cls: the network's own
// softmax or sigmoid output when it ends in one (a single sigmoid unit gives
// p for class 1 and 1 - p for class 0), else a softmax over its outputs.
Tensor class_probability(nn::Sequential& net, const Tensor& batch, std::int64_t cls) {
  const std::string act = net.final_activation();
  Tensor out = act == "softmax" || act == "sigmoid" ? net(batch) : softmax(net.forward_logits(batch), -1);
  out = out.to(Device::cpu());
  if (out.dim() != 2) fail<ShapeError>("occlusion expects a classifier with outputs (N, K), got ", shape_str(out.shape()));
  const std::int64_t k = out.size(1) == 1 ? 2 : out.size(1);
  if (cls < 0 || cls >= k) fail<ValueError>("occlusion expects a class in [0, ", k, "), got ", cls);
  if (out.size(1) == 1) return cls == 1 ? out.select(1, 0) : 1.0 - out.select(1, 0);
  return out.select(1, cls);
}

}  // namespace

std::vector<std::string> conv_layers(nn::Module& net) {
  std::vector<std::string> names;
  for (nn::Module* m : net.modules())
    if (is_conv(*m)) names.push_back(m->name());
  return names;
}

Tensor filter_grid(const Tensor& kernel, GridOptions options) {
  if (!kernel.defined() || kernel.dim() != 4)
    fail<ShapeError>("filter_grid expects a conv kernel (kh, kw, in, out), got ", shape_or_undefined(kernel));
  const std::int64_t in = kernel.size(2), out = kernel.size(3);
  Tensor k = kernel.detach().to(Device::cpu()).to(DType::f32);
  std::vector<Tensor> tiles;
  if (in == 1 || in == 3) {
    for (std::int64_t o = 0; o < out; ++o) tiles.push_back(normalize01(k.select(3, o), "filter_grid"));  // (kh, kw, in)
  } else {
    for (std::int64_t o = 0; o < out; ++o)
      for (std::int64_t i = 0; i < in; ++i)
        tiles.push_back(normalize01(k.select(3, o).select(2, i), "filter_grid").unsqueeze(-1));  // (kh, kw, 1)
    if (options.columns == 0) options.columns = in;
  }
  return tile_grid(stack(tiles), options);
}

Tensor filter_grid(nn::Module& net, const std::string& layer, GridOptions options) {
  nn::Module& m = net.find(layer);
  if (!is_conv(m)) {
    std::string names;
    for (const auto& n : conv_layers(net)) names += (names.empty() ? "" : ", ") + n;
    fail<ValueError>("filters are drawn for convolution layers; '", layer, "' is a ", m.type(),
                     names.empty() ? std::string(" and this model has none") : "; the conv layers are: " + names);
  }
  for (const auto& [name, p] : m.named_parameters())
    if (name == "kernel") return filter_grid(p, options);
  fail<ValueError>(m.type(), " '", layer, "' has no weights yet: run the model once (or load a trained one)");
}

Tensor layer_output(nn::Module& net, const Tensor& x, const std::string& layer) {
  nn::Module& target = net.find(layer);
  Tensor captured;
  const int id = target.add_forward_hook([&](const nn::Module&, const Tensor&, const Tensor& y) { captured = y.detach(); });
  try {
    NoGradGuard no_grad;
    in_eval_mode(net, [&] { return net(x.to(net.device())); });
  } catch (...) {
    target.remove_forward_hook(id);
    throw;
  }
  target.remove_forward_hook(id);
  if (!captured.defined()) fail<ValueError>("layer '", layer, "' did not run when the model ran on its input");
  return captured.to(Device::cpu());
}

Tensor feature_map_grid(const Tensor& activation, GridOptions options) {
  if (!activation.defined() || activation.size(0) != 1 || (activation.dim() != 4 && activation.dim() != 2))
    fail<ShapeError>("feature_map_grid expects the activation of one input, (1, H, W, C) or (1, C), got ",
                     shape_or_undefined(activation));
  options.colormap = true;
  Tensor a = activation.detach().to(Device::cpu()).to(DType::f32);
  if (activation.dim() == 2) {  // a strip of cells, one per unit
    if (options.scale == 0) options.scale = 12;
    return tile_grid(normalize01(a, "feature_map_grid").reshape({1, 1, a.size(1), 1}), options);
  }
  std::vector<Tensor> tiles;
  for (std::int64_t c = 0; c < a.size(3); ++c)
    tiles.push_back(normalize01(a.select(0, 0).select(2, c), "feature_map_grid").unsqueeze(-1));  // (H, W, 1)
  return tile_grid(stack(tiles), options);
}

Tensor saliency(nn::Sequential& net, const Tensor& x, std::int64_t cls) {
  Tensor input = single_image(x, "saliency").to(net.device());
  // The backward pass also reaches the parameters: hand back the gradients
  // they had, so that looking inside a model never changes its training.
  std::vector<Tensor> params = net.parameters(), grads;
  for (const Tensor& p : params) grads.push_back(p.grad());
  struct RestoreGrads {
    std::vector<Tensor>& params;
    std::vector<Tensor>& grads;
    ~RestoreGrads() {
      for (std::size_t i = 0; i < params.size(); ++i) {
        if (grads[i].defined())
          params[i].set_grad(grads[i]);
        else
          params[i].zero_grad();
      }
    }
  } restore{params, grads};
  return in_eval_mode(net, [&] {
    Tensor leaf = input.detach().clone();
    leaf.set_requires_grad(true);
    EnableGradGuard grad_on;
    Tensor logits = net.forward_logits(leaf);  // (1, K)
    // One logit (a sigmoid) stands for two classes, as in classify(): class 1's score is
    // the logit and class 0's its negative.
    const std::int64_t classes = logits.dim() == 2 ? std::max<std::int64_t>(logits.size(1), 2) : 0;
    if (logits.dim() != 2 || cls < 0 || cls >= classes)
      fail<ValueError>("saliency expects a class in [0, ", classes, "), got ", cls);
    if (logits.size(1) == 1)
      (cls == 1 ? logits : -logits).sum().backward();
    else
      logits.select(1, cls).sum().backward();
    return leaf.grad().to(Device::cpu());
  });
}

Tensor occlusion(nn::Sequential& net, const Tensor& x, std::int64_t cls, OcclusionOptions o) {
  Tensor image = single_image(x, "occlusion").to(Device::cpu()).contiguous();  // (1, H, W, C)
  const std::int64_t h = image.size(1), w = image.size(2), c = image.size(3);
  const auto [rows, cols] = occluder_grid(h, w, o);
  const std::int64_t positions = rows * cols;
  Tensor map = Tensor::empty({rows, cols}, DType::f32);
  float* m = map.data<float>();
  NoGradGuard no_grad;
  in_eval_mode(net, [&] {
    // Each batch holds the untouched image first, so that its probability and
    // the occluded ones come from the same computation.
    for (std::int64_t start = 0; start < positions; start += o.batch_size) {
      const std::int64_t count = std::min(o.batch_size, positions - start);
      Tensor batch = image.expand({count + 1, h, w, c}).contiguous();
      float* b = batch.data<float>();
      for (std::int64_t k = 0; k < count; ++k) {
        const std::int64_t y0 = (start + k) / cols * o.stride, x0 = (start + k) % cols * o.stride;
        for (std::int64_t i = y0; i < y0 + o.patch; ++i)
          std::fill(b + (((k + 1) * h + i) * w + x0) * c, b + (((k + 1) * h + i) * w + x0 + o.patch) * c, o.fill);
      }
      std::vector<float> p = class_probability(net, batch.to(net.device()), cls).contiguous().to_vector<float>();
      for (std::int64_t k = 0; k < count; ++k) m[start + k] = p[0] - p[k + 1];
    }
    return 0;
  });
  return map;
}

Tensor image_picture(const Tensor& x, std::int64_t scale) {
  Tensor img = x.defined() && x.dim() == 4 && x.size(0) == 1 ? x.select(0, 0) : x;
  if (!img.defined() || img.dim() != 3 || (img.size(2) != 1 && img.size(2) != 3))
    fail<ShapeError>("image_picture expects an image (H, W, C) or (1, H, W, C) with C = 1 or 3, got ",
                     shape_or_undefined(x));
  return tile_grid(normalize01(img, "image_picture").unsqueeze(0), {.scale = scale, .border = 0});
}

Tensor saliency_picture(const Tensor& x, const Tensor& gradient, std::int64_t scale) {
  if (!gradient.defined() || gradient.shape() != x.shape() || x.dim() != 4)
    fail<ShapeError>("saliency_picture expects a gradient shaped like the input ", shape_str(x.shape()));
  Tensor magnitude = cortex::max(cortex::abs(gradient.detach().to(Device::cpu())), {3}).select(0, 0);  // (H, W)
  Tensor input = image_picture(x, scale), map = heat(magnitude, scale);
  return hstack({input, map, blend(input, map)});
}

Tensor occlusion_picture(const Tensor& x, const Tensor& map, const OcclusionOptions& o, std::int64_t scale) {
  Tensor image = single_image(x, "occlusion_picture");
  const std::int64_t h = image.size(1), w = image.size(2);
  const auto [rows, cols] = occluder_grid(h, w, o);
  if (!map.defined() || map.shape() != Shape{rows, cols})
    fail<ShapeError>("occlusion_picture expects a map of shape ", shape_str({rows, cols}), " for these options");
  // Each pixel: the mean effect of the occluder positions that cover it.
  Tensor sum = Tensor::empty({h, w}, DType::f32), hits = Tensor::empty({h, w}, DType::f32);
  sum.fill_(0);
  hits.fill_(0);
  Tensor mc = map.to(DType::f32).contiguous();
  const float* mv = mc.data<float>();
  float *s = sum.data<float>(), *n = hits.data<float>();
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t q = 0; q < cols; ++q)
      for (std::int64_t i = r * o.stride; i < r * o.stride + o.patch; ++i)
        for (std::int64_t j = q * o.stride; j < q * o.stride + o.patch; ++j) {
          s[i * w + j] += mv[r * cols + q];
          n[i * w + j] += 1;
        }
  for (std::int64_t i = 0; i < h * w; ++i) s[i] = n[i] > 0 ? s[i] / n[i] : 0.0f;
  Tensor input = image_picture(image, scale), heat_map = heat(sum, scale);
  return hstack({input, heat_map, blend(input, heat_map)});
}

}  // namespace cortex::viz
