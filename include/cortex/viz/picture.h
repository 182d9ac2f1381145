// Pictures: tensors turned into RGB images (u8 (H, W, 3) on the CPU, as
// io::write_png takes them): normalised tiles laid out in grids, colour maps,
// and writing a picture as PNG or as an SVG that carries it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cortex/core/tensor.h"

namespace cortex::viz {

struct Rgb {
  std::uint8_t r = 0, g = 0, b = 0;
};

// The viridis colour map (dark blue at 0, yellow at 1); t is clamped to [0, 1].
Rgb viridis(double t);

// x: any real tensor -> f32 of the same shape in [0, 1]: (x - min) / (max - min),
// or 0.5 everywhere when x is constant. NaN is an error naming `what`.
Tensor normalize01(const Tensor& x, const std::string& what = "normalize01");

struct GridOptions {
  std::int64_t scale = 0;    // each value becomes scale x scale pixels (0: tiles of at least 32 px)
  std::int64_t border = 2;   // pixels of background between and around tiles
  std::int64_t columns = 0;  // tiles per row (0: a near-square grid)
  bool colormap = false;     // one-channel tiles through viridis instead of grey
  // Between and around tiles (default: white around colour-mapped tiles, a
  // blue-grey that no grey or colour tile is confused with around the rest).
  std::optional<Rgb> background;
};

// tiles: (N, h, w, C) with values in [0, 1], C = 1 (grey or colour-mapped) or 3 (RGB)
// -> u8 (H, W, 3): tile k at row k / columns, column k % columns, each pixel
// round(255 * value), on the background colour.
Tensor tile_grid(const Tensor& tiles, GridOptions options = {});

// Images side by side (each u8 (H_i, W_i, 3)), top-aligned, `gap` white pixels apart.
Tensor hstack(const std::vector<Tensor>& images, std::int64_t gap = 4);

// Writes an RGB picture to `path`: .png as PNG, .svg as an SVG document that
// embeds the PNG (with `title` as its <title>). Other extensions: ValueError.
void write_picture(const std::string& path, const Tensor& image, const std::string& title = "");

// RFC 4648 base64 of arbitrary bytes (for data: URIs).
std::string base64(const std::string& bytes);

// True when path ends with ext (".svg").
bool has_extension(const std::string& path, const std::string& ext);

}  // namespace cortex::viz
