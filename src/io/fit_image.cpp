// fit_image: a photo or drawing made to look like the training data (padded to
// the model's aspect ratio, a light background inverted), then to_model_input.
#include <cmath>
#include <vector>

#include "cortex/io/image.h"
#include "host_bytes.h"

namespace cortex::io {

Tensor fit_image(const Tensor& image_u8, std::int64_t height, std::int64_t width, std::int64_t channels,
                 const ImageFit& fit, std::string* done) {
  const char* what = "fit_image";
  check_image(image_u8, what);
  if (height <= 0 || width <= 0)
    fail<ShapeError>(what, " expects a model input of positive sides, got ", height, "x", width);
  const std::int64_t H = image_u8.size(0), W = image_u8.size(1), C = image_u8.size(2);
  const std::int64_t colours = C == 4 ? 3 : C;  // alpha is dropped, as to_model_input does
  std::vector<std::uint8_t> scratch;
  const std::uint8_t* src = host_bytes(image_u8, scratch, what);  // (H, W, C)

  // The border's mean colour: the background of a centred object.
  std::vector<double> border(colours, 0.0);
  std::int64_t count = 0;
  auto add = [&](std::int64_t y, std::int64_t x) {
    for (std::int64_t c = 0; c < colours; ++c) border[c] += src[(y * W + x) * C + c];
    ++count;
  };
  for (std::int64_t y = 0; y < H; ++y) {
    if (y == 0 || y == H - 1) {
      for (std::int64_t x = 0; x < W; ++x) add(y, x);
    } else {
      add(y, 0);
      if (W > 1) add(y, W - 1);
    }
  }
  for (double& v : border) v /= static_cast<double>(count);
  const double luma = colours == 1 ? border[0] : 0.299 * border[0] + 0.587 * border[1] + 0.114 * border[2];
  const bool invert = fit.dark_background && luma > 127.5;

  // The padded size: the model's aspect ratio, the picture centred in it.
  std::int64_t ph = H, pw = W;
  if (fit.keep_aspect) {
    if (W * height > H * width) ph = std::max(H, static_cast<std::int64_t>(std::llround(double(W) * height / width)));
    else pw = std::max(W, static_cast<std::int64_t>(std::llround(double(H) * width / height)));
  }
  // read_png's limit (2^30 bytes) holds for the padded picture too.
  if (ph > (std::int64_t{1} << 16) || pw > (std::int64_t{1} << 16) || ph * pw * colours > (std::int64_t{1} << 30))
    fail<ShapeError>(what, ": a ", W, "x", H, " picture padded to the model's aspect ratio would be ", pw, "x", ph,
                     ", over 2^16 pixels a side or 2^30 bytes");
  const std::int64_t top = (ph - H) / 2, left = (pw - W) / 2;
  Tensor padded = Tensor::empty({ph, pw, colours}, DType::u8);  // (ph, pw, colours)
  std::uint8_t* dst = padded.data<std::uint8_t>();
  for (std::int64_t y = 0; y < ph; ++y)
    for (std::int64_t x = 0; x < pw; ++x) {
      const bool inside = y >= top && y < top + H && x >= left && x < left + W;
      for (std::int64_t c = 0; c < colours; ++c) {
        const std::uint8_t v = inside ? src[((y - top) * W + (x - left)) * C + c]
                                      : static_cast<std::uint8_t>(std::lround(border[c]));
        dst[(y * pw + x) * colours + c] = invert ? 255 - v : v;
      }
    }

  if (done) {
    std::vector<std::string> steps;
    if (invert) steps.push_back("light background inverted");
    if (ph != H || pw != W) steps.push_back("padded to " + std::to_string(pw) + "x" + std::to_string(ph));
    if (ph != height || pw != width) steps.push_back("resized to " + std::to_string(width) + "x" + std::to_string(height));
    if (colours == 3 && channels == 1) steps.push_back("made grey");
    done->clear();
    for (const auto& s : steps) *done += (done->empty() ? "" : ", ") + s;
    if (!done->empty())
      *done = std::to_string(W) + "x" + std::to_string(H) + (colours == 3 ? " RGB: " : " grey: ") + *done;
  }
  return to_model_input(padded, height, width, channels);
}

}  // namespace cortex::io
