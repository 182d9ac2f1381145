// Datasets as (x, y) tensors: Fashion-MNIST from Debian's dataset-fashion-mnist, or any IDX pair.
#pragma once

#include <array>
#include <string>

#include "cortex/core/tensor.h"

namespace cortex::data {

struct Dataset {
  Tensor x;  // (N, H, W, 1) f32 in [0, 1] for IDX images
  Tensor y;  // (N) i64 class labels
};

struct FashionMnist {
  Dataset train;  // 60000 images
  Dataset test;   // 10000 images
};

// Reads train-images-idx3-ubyte(.gz), train-labels-idx1-ubyte(.gz), t10k-… from
// `dir` (the same names serve MNIST). Images are scaled by 1/255 like the
// lecture's x / 255. A missing directory or file throws cortex::Error naming
// the path and `apt-get install dataset-fashion-mnist`.
FashionMnist fashion_mnist(const std::string& dir = "/usr/share/datasets/fashion-mnist");

// "T-shirt/top", "Trouser", … "Ankle boot", indexed by label.
const std::array<std::string, 10>& fashion_mnist_class_names();

// An images file and a labels file in IDX format (.gz or raw). Images of shape
// (N, H, W) gain a channel axis: (N, H, W, 1); (N, H, W, C) and (N, D) stay as
// they are. u8 pixels are scaled to [0, 1]; other types are only cast to f32.
// Labels must be (N) integers; they become i64.
Dataset load_idx_dataset(const std::string& images_path, const std::string& labels_path);

}  // namespace cortex::data
