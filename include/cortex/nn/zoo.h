// Ready-made networks of the course, as Keras's applications and
// torchvision's models are: call one, move it, train it.
#pragma once

#include <cstdint>

#include "cortex/nn/sequential.h"

namespace cortex::nn::zoo {

// The lecture's Fashion-MNIST CNN on 28x28x1 inputs: Conv2D 32 -> Conv2D 64 ->
// MaxPooling2D -> Dropout 0.25 -> Flatten -> Dense 128 -> Dropout 0.5 ->
// Dense 10 softmax (1,199,882 parameters).
Sequential lecture_cnn();

// A fully connected net on 28x28x1 inputs: Flatten -> Dense 512 ReLU ->
// Dropout 0.2 -> Dense 10 softmax (407,050 parameters); no notion of
// neighbouring pixels, so a shifted image is a new image to it.
Sequential mlp();

// A VGG-style CNN on 32x32x3 inputs: three blocks of two 3x3 "same" Conv2D
// (64, 128, 256 filters, ReLU) each followed by 2x2 max pooling, then Dense 512
// ReLU and Dense `classes` softmax.
Sequential vgg_small(std::int64_t classes = 10);

}  // namespace cortex::nn::zoo
