// Pictures from tensors: normalising, colour-mapping, tiling, writing PNG/SVG.
#include "cortex/viz/picture.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "cortex/io/atomic_file.h"
#include "cortex/io/image.h"
#include "cortex/viz/chart.h"
#include "checks.h"

namespace cortex::viz {
namespace {

std::uint8_t to_byte(double v) {
  return std::isfinite(v) ? static_cast<std::uint8_t>(std::lround(std::clamp(v, 0.0, 1.0) * 255.0)) : 0;
}

void check_rgb(const Tensor& image, const char* what) {
  if (!image.defined() || image.dtype() != DType::u8 || image.dim() != 3 || image.size(2) != 3 ||
      !image.device().is_cpu())
    fail<ShapeError>(what, " expects an RGB picture, u8 (H, W, 3) on the cpu, got ",
                     shape_or_undefined(image) + (image.defined() ? std::string(" ") + dtype_name(image.dtype()) : ""));
}

}  // namespace

Rgb viridis(double t) {
  // A degree-6 polynomial fit of matplotlib's viridis per channel (Matt Zucker's, CC0).
  static constexpr double c[7][3] = {{0.2777273272234177, 0.005407344544966578, 0.3340998053353061},
                                     {0.1050930431085774, 1.404613529898575, 1.384590162594685},
                                     {-0.3308618287255563, 0.214847559468213, 0.09509516302823659},
                                     {-4.634230498983486, -5.799100973351585, -19.33244095627987},
                                     {6.228269936347081, 14.17993336680509, 56.69055260068105},
                                     {4.776384997670288, -13.74514537774601, -65.35303263337234},
                                     {-5.435455855934631, 4.645852612178535, 26.3124352495832}};
  t = std::isfinite(t) ? std::clamp(t, 0.0, 1.0) : 0.0;
  double v[3];
  for (int ch = 0; ch < 3; ++ch) {
    double acc = c[6][ch];
    for (int k = 5; k >= 0; --k) acc = acc * t + c[k][ch];
    v[ch] = acc;
  }
  return {to_byte(v[0]), to_byte(v[1]), to_byte(v[2])};
}

Tensor normalize01(const Tensor& x, const std::string& what) {
  if (!x.defined() || x.numel() == 0) fail<ValueError>(what, " expects a non-empty tensor");
  Tensor f = x.detach().to(Device::cpu()).to(DType::f32).contiguous();
  const float* p = f.data<float>();
  const std::int64_t n = f.numel();
  float lo = p[0], hi = p[0];
  for (std::int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(p[i])) fail<ValueError>(what, " expects finite values, found ", p[i]);
    lo = std::min(lo, p[i]);
    hi = std::max(hi, p[i]);
  }
  Tensor out = Tensor::empty(f.shape(), DType::f32);
  float* q = out.data<float>();
  const double range = static_cast<double>(hi) - lo;
  for (std::int64_t i = 0; i < n; ++i) q[i] = range > 0 ? static_cast<float>((p[i] - lo) / range) : 0.5f;
  return out;
}

Tensor tile_grid(const Tensor& tiles, GridOptions o) {
  if (!tiles.defined() || tiles.dim() != 4 || (tiles.size(3) != 1 && tiles.size(3) != 3) || tiles.numel() == 0)
    fail<ShapeError>("tile_grid expects tiles (N, h, w, C) with C = 1 or 3, got ", shape_or_undefined(tiles));
  const std::int64_t n = tiles.size(0), h = tiles.size(1), w = tiles.size(2), c = tiles.size(3);
  if (o.border < 0 || o.scale < 0 || o.columns < 0)
    fail<ValueError>("tile_grid expects scale, border and columns >= 0, got ", o.scale, ", ", o.border, ", ",
                     o.columns);
  const std::int64_t scale = o.scale > 0 ? o.scale : std::max<std::int64_t>(1, (32 + std::max(h, w) - 1) / std::max(h, w));
  const std::int64_t cols =
      o.columns > 0 ? std::min(o.columns, n) : static_cast<std::int64_t>(std::ceil(std::sqrt(static_cast<double>(n))));
  const std::int64_t rows = (n + cols - 1) / cols;
  // Sized in doubles first: a huge scale or border must not overflow the checks.
  const double pixels = (static_cast<double>(rows) * static_cast<double>(h) * static_cast<double>(scale) +
                         static_cast<double>(rows + 1) * static_cast<double>(o.border)) *
                        (static_cast<double>(cols) * static_cast<double>(w) * static_cast<double>(scale) +
                         static_cast<double>(cols + 1) * static_cast<double>(o.border));
  if (pixels > static_cast<double>(std::int64_t{1} << 28))
    fail<ValueError>("tile_grid: ", n, " tiles of ", h, "x", w, " at scale ", scale, " make a picture of ", pixels,
                     " pixels, more than the 2^28 allowed; lower the scale");
  const std::int64_t th = h * scale, tw = w * scale;
  const std::int64_t height = rows * th + (rows + 1) * o.border, width = cols * tw + (cols + 1) * o.border;

  Tensor src = tiles.detach().to(Device::cpu()).to(DType::f32).contiguous();
  const float* v = src.data<float>();
  Tensor out = Tensor::empty({height, width, 3}, DType::u8);
  std::uint8_t* px = out.data<std::uint8_t>();
  const Rgb bg = o.background.value_or(o.colormap && c == 1 ? Rgb{255, 255, 255} : Rgb{96, 128, 176});
  for (std::int64_t i = 0; i < height * width; ++i) px[3 * i] = bg.r, px[3 * i + 1] = bg.g, px[3 * i + 2] = bg.b;
  for (std::int64_t k = 0; k < n; ++k) {
    const std::int64_t y0 = o.border + (k / cols) * (th + o.border), x0 = o.border + (k % cols) * (tw + o.border);
    for (std::int64_t i = 0; i < th; ++i) {
      for (std::int64_t j = 0; j < tw; ++j) {
        const float* value = v + ((k * h + i / scale) * w + j / scale) * c;
        Rgb rgb = c == 3            ? Rgb{to_byte(value[0]), to_byte(value[1]), to_byte(value[2])}
                  : o.colormap      ? viridis(value[0])
                                    : Rgb{to_byte(value[0]), to_byte(value[0]), to_byte(value[0])};
        std::uint8_t* p = px + ((y0 + i) * width + x0 + j) * 3;
        p[0] = rgb.r;
        p[1] = rgb.g;
        p[2] = rgb.b;
      }
    }
  }
  return out;
}

Tensor hstack(const std::vector<Tensor>& images, std::int64_t gap) {
  if (images.empty()) fail<ValueError>("hstack expects at least one picture");
  // A negative gap would copy outside the picture; the width is checked before it is allocated.
  constexpr std::int64_t kMaxSide = std::int64_t{1} << 20;
  if (gap < 0 || gap > kMaxSide) fail<ValueError>("hstack expects a gap in [0, 2^20] pixels, got ", gap);
  std::int64_t height = 0, width = gap * static_cast<std::int64_t>(images.size() - 1);
  for (const auto& im : images) {
    check_rgb(im, "hstack");
    height = std::max(height, im.size(0));
    width += im.size(1);
  }
  if (static_cast<double>(height) * static_cast<double>(width) > static_cast<double>(std::int64_t{1} << 28))
    fail<ValueError>("hstack would make a picture of ", height, "x", width, " pixels, over 2^28");
  Tensor out = Tensor::empty({height, width, 3}, DType::u8);
  std::uint8_t* px = out.data<std::uint8_t>();
  std::fill(px, px + out.numel(), std::uint8_t{255});
  std::int64_t x0 = 0;
  for (const auto& im : images) {
    Tensor c = im.contiguous();
    const std::uint8_t* s = c.data<std::uint8_t>();
    for (std::int64_t i = 0; i < c.size(0); ++i)
      std::copy(s + i * c.size(1) * 3, s + (i + 1) * c.size(1) * 3, px + (i * width + x0) * 3);
    x0 += c.size(1) + gap;
  }
  return out;
}

bool has_extension(const std::string& path, const std::string& ext) {
  if (path.size() < ext.size()) return false;
  return std::equal(ext.rbegin(), ext.rend(), path.rbegin(),
                    [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b)); });
}

void write_picture(const std::string& path, const Tensor& image, const std::string& title) {
  check_rgb(image, "write_picture");
  if (has_extension(path, ".png")) return io::write_png(path, image);
  if (!has_extension(path, ".svg"))
    fail<ValueError>("write_picture expects an output ending in .png or .svg, got '", path, "'");
  const std::string w = std::to_string(image.size(1)), h = std::to_string(image.size(0));
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + w + "\" height=\"" + h +
                    "\" viewBox=\"0 0 " + w + " " + h + "\">\n<title>" + escape_xml(title) + "</title>\n" +
                    "<image width=\"" + w + "\" height=\"" + h +
                    "\" style=\"image-rendering:pixelated\" href=\"data:image/png;base64," +
                    base64(io::encode_png(image)) + "\"/>\n</svg>\n";
  io::write_text(path, svg);
}

std::string base64(const std::string& bytes) {
  static constexpr char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += {table[v >> 18], table[(v >> 12) & 63], table[(v >> 6) & 63], table[v & 63]};
  }
  if (i < bytes.size()) {
    const bool two = i + 1 < bytes.size();
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (two ? static_cast<unsigned char>(bytes[i + 1]) << 8 : 0u);
    out += {table[v >> 18], table[(v >> 12) & 63], two ? table[(v >> 6) & 63] : '=', '='};
  }
  return out;
}

}  // namespace cortex::viz
