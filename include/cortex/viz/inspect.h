// Looking inside a network: a conv layer's filters, any layer's feature maps,
// saliency (the gradient of a class score with respect to the input) and
// occlusion sensitivity (Zeiler & Fergus), as tensors and as pictures.
#pragma once

#include <cstdint>
#include <string>

#include "cortex/nn/sequential.h"
#include "cortex/viz/picture.h"

namespace cortex::viz {

// The names of the layers whose filters can be drawn (Conv2D).
std::vector<std::string> conv_layers(nn::Module& net);

// kernel: (kh, kw, I, O) HWIO. With I = 1 or 3 each of the O filters is one
// tile (grey or colour) in a near-square grid; otherwise each (filter, input
// channel) slice is a grey tile, one row per filter and one column per input
// channel. Every tile is normalised on its own (normalize01).
Tensor filter_grid(const Tensor& kernel, GridOptions options = {});
// The filters of the layer named `layer` in `net`: a ValueError lists the
// layers there are when none has the name, and the conv layers when it is not one.
Tensor filter_grid(nn::Module& net, const std::string& layer, GridOptions options = {});

// The output of the layer named `layer` when net runs on x (in evaluation
// mode, without gradients), read through a forward hook.
Tensor layer_output(nn::Module& net, const Tensor& x, const std::string& layer);

// activation: (1, H, W, C) -> C colour-mapped tiles, each normalised on its own;
// (1, C) -> one strip of C cells. Other shapes: ShapeError.
Tensor feature_map_grid(const Tensor& activation, GridOptions options = {});

// x: (1, H, W, C) -> (1, H, W, C), d score / d x where score is the network's
// output for class `cls` before its final activation (Sequential::forward_logits),
// in evaluation mode.
Tensor saliency(nn::Sequential& net, const Tensor& x, std::int64_t cls);

struct OcclusionOptions {
  std::int64_t patch = 4;   // side of the square occluder, pixels
  std::int64_t stride = 1;  // pixels between occluder positions
  float fill = 0.0f;        // the occluder's value (0: Fashion-MNIST's background)
  std::int64_t batch_size = 256;
};

// x: (1, H, W, C) -> (rows, cols) f32 with rows = (H - patch) / stride + 1 (cols
// likewise): p(cls | x) - p(cls | x with the patch at that position filled),
// with the network's softmax or sigmoid output (a single sigmoid unit: class 1
// is p, class 0 is 1 - p), else a softmax over its outputs. Positive where
// covering the image hurts the class.
Tensor occlusion(nn::Sequential& net, const Tensor& x, std::int64_t cls, OcclusionOptions options = {});

// Pictures for one input x (1, H, W, C): the input, the map as a viridis heat
// map, and the heat map blended over the input, side by side, each scaled
// `scale` times. For saliency the map is max over channels of |gradient|; for
// occlusion each pixel takes the mean over the occluder positions covering it.
Tensor saliency_picture(const Tensor& x, const Tensor& gradient, std::int64_t scale = 8);
Tensor occlusion_picture(const Tensor& x, const Tensor& map, const OcclusionOptions& options,
                         std::int64_t scale = 8);

// x: (H, W, C) or (1, H, W, C) with C = 1 or 3 -> u8 (H*scale, W*scale, 3), normalised.
Tensor image_picture(const Tensor& x, std::int64_t scale = 1);

}  // namespace cortex::viz
