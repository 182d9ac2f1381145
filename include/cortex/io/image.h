// PNG images in and out (through libpng), and their conversion into a model's input.
#pragma once

#include <cstdint>
#include <string>

#include "cortex/core/tensor.h"

namespace cortex::io {

// Reads a PNG into a u8 tensor (H, W, C) with C = 1 for greyscale images and C = 3 for
// colour ones. Palettes are expanded to RGB, 1/2/4-bit grey to 8 bits, 16-bit samples are
// scaled to 8 bits, and alpha (an alpha channel or tRNS transparency) is dropped: a
// classifier sees the stored colours. A file that is not a PNG is a cortex::Error
// "not a PNG file: <path>"; a damaged one names the path and libpng's complaint.
Tensor read_png(const std::string& path);

// image: (H, W, C) u8 on the CPU, C = 1 (grey), 3 (RGB) or 4 (RGBA); 8-bit, not
// interlaced, written atomically (see write_atomically).
void write_png(const std::string& path, const Tensor& image);

// The same image as PNG file bytes in memory (for pages that inline their images).
std::string encode_png(const Tensor& image);

// image_u8: (H, W, C) u8 with C = 1, 3 or 4 (alpha ignored) -> f32 (1, height, width,
// channels) in [0, 1], for channels 1 or 3. One channel takes the ITU-R 601 luma
// 0.299 R + 0.587 G + 0.114 B; three from grey repeat it. Resizing is separable: area
// averaging along an axis that shrinks, bilinear interpolation with half-pixel centres
// (PyTorch's align_corners=False) along one that grows or keeps its size.
Tensor to_model_input(const Tensor& image_u8, std::int64_t height, std::int64_t width, std::int64_t channels);

// How a picture from elsewhere (a photo, a drawing) is made to look like a
// Fashion-MNIST-like training set before to_model_input.
struct ImageFit {
  // Pad the short side to the model's aspect ratio, with the border's mean
  // colour, instead of stretching the picture.
  bool keep_aspect = true;
  // Invert a picture whose border is light: Fashion-MNIST's clothes are light on black.
  bool dark_background = true;
};

// to_model_input after the padding and inversion `fit` asks for. `done`, when
// given, gets what was done in one phrase, or "" when the picture went in as it
// was ("600x400 RGB: light background inverted, padded to 600x600, resized to
// 28x28, made grey").
Tensor fit_image(const Tensor& image_u8, std::int64_t height, std::int64_t width, std::int64_t channels,
                 const ImageFit& fit = {}, std::string* done = nullptr);

}  // namespace cortex::io
