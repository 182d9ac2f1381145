// random_shift: whole-pixel random translations of NHWC image batches.
//
// Keras's ImageDataGenerator(width_shift_range=…, height_shift_range=…) draws a
// real-valued shift and resamples with fill_mode='nearest' by default. We draw
// whole-pixel shifts, which keep pixel values exact and make the shift a plain
// copy, and default to the same 'nearest' fill: uncovered pixels repeat the
// edge row or column. FillMode::constant gives zeros instead (fill_mode=
// 'constant', cval=0); on Fashion-MNIST's black borders the two barely differ.
#include "cortex/data/augment.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

namespace cortex::data {
namespace {

std::int64_t max_offset(double fraction, std::int64_t size, const char* what) {
  if (!std::isfinite(fraction) || fraction < 0.0 || fraction > 1.0)
    fail<ValueError>("random_shift expects ", what, " in [0, 1], got ", fraction);
  return static_cast<std::int64_t>(std::floor(fraction * static_cast<double>(size)));
}

// Uniform integer in [-max, max].
std::int64_t draw_offset(Generator& gen, std::int64_t max) {
  return static_cast<std::int64_t>(gen.next_below(static_cast<std::uint64_t>(2 * max + 1))) - max;
}

// Checks a batch for the shifts: rank 4, on the CPU.
Tensor checked_batch(const Tensor& images, const char* what) {
  if (!images.defined()) fail<ValueError>(what, " expects an image batch, got an undefined tensor");
  if (images.dim() != 4)
    fail<ShapeError>(what, " expects a rank-4 NHWC batch (N, H, W, C), got shape ", shape_str(images.shape()));
  if (!images.device().is_cpu()) fail<DeviceError>(what, " expects images on the cpu, got ", images.device().str());
  return images.detach().contiguous();
}

// Shifts every image of x (N, H, W, C) by offset(img) = (dy, dx) into a new batch.
template <typename Offset>
Tensor shift_each(const Tensor& x, FillMode fill, Offset offset) {
  const std::int64_t n = x.size(0), h = x.size(1), w = x.size(2);
  Tensor out = Tensor::empty(x.shape(), x.dtype());
  const std::size_t pixel = element_size(x.dtype()) * static_cast<std::size_t>(x.size(3));
  const std::size_t row = pixel * static_cast<std::size_t>(w);
  const char* src = static_cast<const char*>(x.raw_data());
  char* dst = static_cast<char*>(out.raw_data());

  for (std::int64_t img = 0; img < n; ++img) {
    const auto [dy, dx] = offset(img);
    const char* s_img = src + img * h * row;
    char* d_img = dst + img * h * row;
    // Output columns [j0, j1) come from input columns [j0 - dx, j1 - dx); the rest are uncovered.
    const std::int64_t j0 = std::clamp<std::int64_t>(dx, 0, w), j1 = std::clamp<std::int64_t>(w + dx, 0, w);
    for (std::int64_t i = 0; i < h; ++i) {
      char* d_row = d_img + i * row;
      const std::int64_t si = i - dy;
      if (fill == FillMode::constant && (si < 0 || si >= h)) {
        std::memset(d_row, 0, row);
        continue;
      }
      const char* s_row = s_img + std::clamp<std::int64_t>(si, 0, h - 1) * row;
      if (j1 > j0) std::memcpy(d_row + j0 * pixel, s_row + (j0 - dx) * pixel, (j1 - j0) * pixel);
      for (std::int64_t j = 0; j < w; ++j) {
        if (j >= j0 && j < j1) continue;
        if (fill == FillMode::constant)
          std::memset(d_row + j * pixel, 0, pixel);
        else
          std::memcpy(d_row + j * pixel, s_row + std::clamp<std::int64_t>(j - dx, 0, w - 1) * pixel, pixel);
      }
    }
  }
  return out;
}

}  // namespace

Tensor random_shift(const Tensor& images, double height_fraction, double width_fraction, Generator& gen,
                    FillMode fill) {
  Tensor x = checked_batch(images, "random_shift");  // (N, H, W, C)
  const std::int64_t max_dy = max_offset(height_fraction, x.size(1), "height_fraction");
  const std::int64_t max_dx = max_offset(width_fraction, x.size(2), "width_fraction");
  return shift_each(x, fill, [&](std::int64_t) {
    const std::int64_t dy = draw_offset(gen, max_dy), dx = draw_offset(gen, max_dx);
    return std::pair{dy, dx};
  });
}

Tensor shift(const Tensor& images, std::int64_t dy, std::int64_t dx, FillMode fill) {
  Tensor x = checked_batch(images, "shift");  // (N, H, W, C)
  // A shift by the whole height or width or more uncovers everything alike; clamping
  // keeps w + dx and j - dx from overflowing for offsets near 2^63.
  const std::int64_t h = x.size(1), w = x.size(2);
  dy = std::clamp<std::int64_t>(dy, -h, h);
  dx = std::clamp<std::int64_t>(dx, -w, w);
  return shift_each(x, fill, [&](std::int64_t) { return std::pair{dy, dx}; });
}

}  // namespace cortex::data
