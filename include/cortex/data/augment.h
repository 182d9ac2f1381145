// Data augmentation on image batches (Keras's ImageDataGenerator shifts).
#pragma once

#include "cortex/core/generator.h"
#include "cortex/core/tensor.h"

namespace cortex::data {

// What fills the pixels a shift uncovers: the nearest edge pixel (Keras's
// ImageDataGenerator default) or zeros (Keras's fill_mode='constant', cval=0).
enum class FillMode { nearest, constant };

// images: (N, H, W, C), any dtype -> same shape. Each image moves by its own
// integer offset (dy, dx), dy drawn uniformly from [-floor(height_fraction * H),
// floor(height_fraction * H)] and dx likewise from W; positive offsets move the
// content down and right. Fractions lie in [0, 1]. Used as a DataLoader transform:
//   .transform = [](const Tensor& x, Generator& g) { return random_shift(x, 0.1, 0.1, g); }
Tensor random_shift(const Tensor& images, double height_fraction, double width_fraction, Generator& gen,
                    FillMode fill = FillMode::nearest);

// images: (N, H, W, C), any dtype -> same shape, every image moved by (dy, dx)
// pixels (positive: down and right), as random_shift moves each one; the test of
// how shift-invariant a model is.
Tensor shift(const Tensor& images, std::int64_t dy, std::int64_t dx, FillMode fill = FillMode::constant);

}  // namespace cortex::data
