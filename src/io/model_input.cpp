// to_model_input: an image as a model wants it, in [0, 1], greyscaled or not, resized.
#include <algorithm>
#include <cmath>
#include <vector>

#include "cortex/io/image.h"
#include "host_bytes.h"

namespace cortex::io {
namespace {

struct Tap {
  std::int64_t index;
  float weight;
};

// For each output position along one axis, the source positions it blends. Shrinking
// averages the source interval the output pixel covers (no aliasing from skipped
// pixels); growing interpolates linearly between the two nearest source centres.
std::vector<std::vector<Tap>> resize_taps(std::int64_t in, std::int64_t out) {
  const double scale = static_cast<double>(in) / static_cast<double>(out);
  std::vector<std::vector<Tap>> taps(out);
  for (std::int64_t o = 0; o < out; ++o) {
    if (scale > 1.0) {
      const double lo = o * scale, hi = lo + scale;
      for (auto i = static_cast<std::int64_t>(lo); i < std::min<double>(std::ceil(hi), in); ++i) {
        const double overlap = std::min(hi, i + 1.0) - std::max(lo, static_cast<double>(i));
        if (overlap > 0) taps[o].push_back({i, static_cast<float>(overlap / scale)});
      }
    } else {
      const double x = std::clamp((o + 0.5) * scale - 0.5, 0.0, static_cast<double>(in - 1));
      const auto i0 = static_cast<std::int64_t>(x);
      const auto i1 = std::min(i0 + 1, in - 1);
      const auto f = static_cast<float>(x - i0);
      taps[o] = {{i0, 1.0f - f}, {i1, f}};
    }
  }
  return taps;
}

}  // namespace

void check_image(const Tensor& image_u8, const char* what) {
  check_host(image_u8, what);
  if (image_u8.dtype() != DType::u8)
    fail<DTypeError>(what, " expects a u8 image, got ", dtype_name(image_u8.dtype()));
  if (image_u8.dim() != 3 || image_u8.numel() == 0 ||
      (image_u8.size(2) != 1 && image_u8.size(2) != 3 && image_u8.size(2) != 4))
    fail<ShapeError>(what, " expects a non-empty (H, W, C) image with C = 1, 3 or 4, got shape ",
                     shape_str(image_u8.shape()));
}

Tensor to_model_input(const Tensor& image_u8, std::int64_t height, std::int64_t width, std::int64_t channels) {
  const char* what = "to_model_input";
  check_image(image_u8, what);
  if (height <= 0 || width <= 0 || (channels != 1 && channels != 3))
    fail<ShapeError>(what, " expects a model input (height, width, channels) with positive sizes and 1 or 3 "
                     "channels, got (", height, ", ", width, ", ", channels, ")");
  const std::int64_t H = image_u8.size(0), W = image_u8.size(1), C = image_u8.size(2);
  // Checked before anything is allocated: sides of at most 2^16 pixels, and the output
  // and the half-resized image (height, W) at most 2^28 floats (1 GiB) each.
  constexpr std::int64_t kMaxSide = std::int64_t{1} << 16, kMaxValues = std::int64_t{1} << 28;
  if (height > kMaxSide || width > kMaxSide || height * width * channels > kMaxValues ||
      W > kMaxValues / (height * channels))
    fail<ShapeError>(what, " expects a model input of sides up to 2^16 and at most 2^28 values (also at the source "
                     "image's width), got (", height, ", ", width, ", ", channels, ") for an image of ",
                     shape_str(image_u8.shape()));
  std::vector<std::uint8_t> scratch;
  const std::uint8_t* src = host_bytes(image_u8, scratch, what);  // (H, W, C)

  // Colour first, at the source size: both steps are linear, so the order is free.
  std::vector<float> plane(static_cast<std::size_t>(H * W * channels));  // (H, W, channels) in [0, 1]
  for (std::int64_t p = 0; p < H * W; ++p) {
    const std::uint8_t* px = src + p * C;
    float* dst = plane.data() + p * channels;
    if (C == 1) {
      std::fill(dst, dst + channels, px[0] / 255.0f);
    } else if (channels == 1) {
      dst[0] = (0.299f * px[0] + 0.587f * px[1] + 0.114f * px[2]) / 255.0f;
    } else {
      for (int c = 0; c < 3; ++c) dst[c] = px[c] / 255.0f;
    }
  }

  const auto rows = resize_taps(H, height), cols = resize_taps(W, width);
  std::vector<float> tmp(static_cast<std::size_t>(height * W * channels), 0.0f);  // (height, W, channels)
  const std::int64_t row = W * channels;
  for (std::int64_t y = 0; y < height; ++y)
    for (const Tap& t : rows[y])
      for (std::int64_t i = 0; i < row; ++i) tmp[y * row + i] += t.weight * plane[t.index * row + i];

  Tensor out = Tensor::empty({1, height, width, channels}, DType::f32);  // (1, height, width, channels)
  float* dst = out.data<float>();
  for (std::int64_t y = 0; y < height; ++y)
    for (std::int64_t x = 0; x < width; ++x)
      for (std::int64_t c = 0; c < channels; ++c) {
        float v = 0.0f;
        for (const Tap& t : cols[x]) v += t.weight * tmp[(y * W + t.index) * channels + c];
        dst[(y * width + x) * channels + c] = std::clamp(v, 0.0f, 1.0f);
      }
  return out;
}

}  // namespace cortex::io
