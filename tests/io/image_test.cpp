// PNG: round trips, the conversions read_png promises (palette, 16-bit, alpha), clear
// errors for files that are not PNGs, and to_model_input's greyscale and resizing.
#include <png.h>

#include "cortex/io/image.h"
#include "support/check.h"
#include "support/fifo.h"
#include "temp_dir.h"

namespace cortex {
namespace {

using io::read_png;
using io::to_model_input;
using io::write_png;

class ImageTest : public testing::TempDirTest {
 protected:
  // read_png / write_png must throw a cortex::Error containing `expected`.
  template <typename F>
  static void expect_error(F&& f, const std::string& expected) {
    try {
      f();
      ADD_FAILURE() << "no error; expected one containing: " << expected;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
  }

  // Writes a PNG with libpng's simplified API: an encoder independent of write_png.
  void write_with_libpng(const std::string& p, png_uint_32 format, int width, int height, const void* pixels,
                         const void* colormap = nullptr, int colors = 0) {
    png_image image{};
    image.version = PNG_IMAGE_VERSION;
    image.format = format;
    image.width = width;
    image.height = height;
    image.colormap_entries = colors;
    ASSERT_TRUE(png_image_write_to_file(&image, p.c_str(), 0, pixels, 0, colormap)) << image.message;
  }
};

Tensor image_of(const Shape& shape, const std::vector<std::uint8_t>& values) {
  return from_vector<std::uint8_t>(values, shape);
}

TEST_F(ImageTest, GreyRoundTrip) {
  std::vector<std::uint8_t> values(5 * 7);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<std::uint8_t>(i * 37 % 256);
  write_png(path("grey.png"), image_of({5, 7, 1}, values));
  Tensor back = read_png(path("grey.png"));
  EXPECT_EQ(back.dtype(), DType::u8);
  EXPECT_EQ(back.shape(), (Shape{5, 7, 1}));
  EXPECT_EQ(back.to_vector<std::uint8_t>(), values);
  EXPECT_EQ(entries(), 1u);
}

TEST_F(ImageTest, RGBRoundTripFromANonContiguousTensor) {
  Tensor planar = arange(3 * 4 * 6).reshape({3, 4, 6});  // (C, H, W)
  Tensor hwc = (planar * 3).to(DType::u8).permute({1, 2, 0});  // (H, W, C), a strided view
  ASSERT_FALSE(hwc.is_contiguous());
  write_png(path("rgb.png"), hwc);
  Tensor back = read_png(path("rgb.png"));
  EXPECT_EQ(back.shape(), (Shape{4, 6, 3}));
  EXPECT_EQ(back.to_vector<std::uint8_t>(), hwc.to_vector<std::uint8_t>());
  EXPECT_EQ(back.at({1, 2, 0}), 3.0 * (0 * 24 + 1 * 6 + 2));
  EXPECT_EQ(back.at({1, 2, 2}), 3.0 * (2 * 24 + 1 * 6 + 2));
}

TEST_F(ImageTest, ReadingDropsAlpha) {
  write_png(path("rgba.png"), image_of({1, 2, 4}, {10, 20, 30, 0, 40, 50, 60, 255}));
  Tensor back = read_png(path("rgba.png"));
  EXPECT_EQ(back.shape(), (Shape{1, 2, 3}));
  EXPECT_EQ(back.to_vector<std::uint8_t>(), (std::vector<std::uint8_t>{10, 20, 30, 40, 50, 60}));

  const std::uint8_t grey_alpha[] = {7, 0, 200, 128};  // (1, 2) pixels of (grey, alpha)
  write_with_libpng(path("ga.png"), PNG_FORMAT_GA, 2, 1, grey_alpha);
  Tensor ga = read_png(path("ga.png"));
  EXPECT_EQ(ga.shape(), (Shape{1, 2, 1}));
  EXPECT_EQ(ga.to_vector<std::uint8_t>(), (std::vector<std::uint8_t>{7, 200}));
}

TEST_F(ImageTest, ReadingExpandsPalettesAndScales16Bits) {
  const std::uint8_t colormap[] = {255, 0, 0, 255, 0, 0, 255, 128};  // red, half-transparent blue
  const std::uint8_t indices[] = {0, 1, 1, 0};
  write_with_libpng(path("palette.png"), PNG_FORMAT_RGBA | PNG_FORMAT_FLAG_COLORMAP, 2, 2, indices, colormap, 2);
  Tensor palette = read_png(path("palette.png"));
  EXPECT_EQ(palette.shape(), (Shape{2, 2, 3}));
  EXPECT_EQ(palette.to_vector<std::uint8_t>(),
            (std::vector<std::uint8_t>{255, 0, 0, 0, 0, 255, 0, 0, 255, 255, 0, 0}));

  const std::uint16_t deep[] = {0, 257 * 10, 257 * 200, 65535};
  write_with_libpng(path("deep.png"), PNG_FORMAT_LINEAR_Y, 4, 1, deep);
  Tensor grey = read_png(path("deep.png"));
  EXPECT_EQ(grey.shape(), (Shape{1, 4, 1}));
  EXPECT_EQ(grey.to_vector<std::uint8_t>(), (std::vector<std::uint8_t>{0, 10, 200, 255}));
}

TEST_F(ImageTest, ATextFileIsNotAPng) {
  write_file(path("notes.png"), "these are notes, not pixels\n");
  expect_error([&] { read_png(path("notes.png")); }, "not a PNG file: " + path("notes.png"));
  write_file(path("empty.png"), "");
  expect_error([&] { read_png(path("empty.png")); }, "not a PNG file: " + path("empty.png"));
  expect_error([&] { read_png(path("missing.png")); }, "cannot open image " + path("missing.png"));
}

TEST_F(ImageTest, ADamagedPngGivesLibpngsReason) {
  std::vector<std::uint8_t> noise(32 * 32 * 3);
  for (std::size_t i = 0; i < noise.size(); ++i) noise[i] = static_cast<std::uint8_t>(i * 2654435761u >> 13);
  write_png(path("ok.png"), image_of({32, 32, 3}, noise));
  const std::string bytes = read_file(path("ok.png"));

  write_file(path("cut.png"), bytes.substr(0, bytes.size() / 2));
  expect_error([&] { read_png(path("cut.png")); }, "corrupt PNG file " + path("cut.png") + ": ");

  std::string bad_crc = bytes;
  bad_crc[16] ^= 0x40;  // the width inside IHDR, which its CRC no longer matches
  write_file(path("crc.png"), bad_crc);
  expect_error([&] { read_png(path("crc.png")); }, "corrupt PNG file " + path("crc.png") + ": IHDR: CRC error");
}

TEST_F(ImageTest, WritePngRejectsWhatIsNotAnImage) {
  expect_error([&] { write_png(path("a.png"), zeros({2, 2, 1})); }, "expects a u8 image, got f32");
  expect_error([&] { write_png(path("a.png"), zeros({2, 2, 2}, DType::u8)); },
               "expects a non-empty (H, W, C) image with C = 1, 3 or 4, got shape [2, 2, 2]");
  expect_error([&] { write_png(path("no/dir/a.png"), zeros({2, 2, 1}, DType::u8)); },
               "cannot write " + path("no/dir/a.png"));
  EXPECT_EQ(entries(), 0u);
}

TEST_F(ImageTest, ModelInputGreyscalesAndShrinksByAreaAveraging) {
  // (56, 56, 3): R = 4x, G = 4y, B = 2(x + y); 2x2 blocks average into 28x28.
  std::vector<std::uint8_t> values;
  std::vector<double> luma(56 * 56);
  double sum = 0;
  for (int y = 0; y < 56; ++y)
    for (int x = 0; x < 56; ++x) {
      const int r = 4 * x, g = 4 * y, b = 2 * (x + y);
      values.insert(values.end(), {std::uint8_t(r), std::uint8_t(g), std::uint8_t(b)});
      luma[y * 56 + x] = (0.299 * r + 0.587 * g + 0.114 * b) / 255.0;
      sum += luma[y * 56 + x];
    }
  Tensor input = to_model_input(image_of({56, 56, 3}, values), 28, 28, 1);
  EXPECT_EQ(input.dtype(), DType::f32);
  EXPECT_EQ(input.shape(), (Shape{1, 28, 28, 1}));
  EXPECT_NEAR(input.mean().item(), sum / (56 * 56), 1e-5);
  const double block = (luma[6 * 56 + 10] + luma[6 * 56 + 11] + luma[7 * 56 + 10] + luma[7 * 56 + 11]) / 4;
  EXPECT_NEAR(input.at({0, 3, 5, 0}), block, 1e-6);
  EXPECT_GE(min(input).item(), 0.0);
  EXPECT_LE(max(input).item(), 1.0);

  // 5 -> 2 pixels: each output covers 2.5 inputs, so the spike counts a fifth in both
  // (bilinear sampling at 0.75 and 3.25 would miss it entirely).
  Tensor spike = to_model_input(image_of({1, 5, 1}, {0, 0, 250, 0, 0}), 1, 2, 1);
  EXPECT_ALL_CLOSE(spike, full({1, 1, 2, 1}, 50.0 / 255), 1e-6, 1e-6);
}

TEST_F(ImageTest, ModelInputGrowsBilinearlyAndRepeatsGrey) {
  // (2, 2, 1) checkerboard to (1, 4, 4, 3): PyTorch's bilinear, align_corners=False,
  // gives rows [0, .25, .75, 1] and [.25, .375, .625, .75].
  Tensor input = to_model_input(image_of({2, 2, 1}, {0, 255, 255, 0}), 4, 4, 3);
  EXPECT_EQ(input.shape(), (Shape{1, 4, 4, 3}));
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(input.at({0, 0, 0, c}), 0.0, 1e-6);
    EXPECT_NEAR(input.at({0, 0, 1, c}), 0.25, 1e-6);
    EXPECT_NEAR(input.at({0, 0, 3, c}), 1.0, 1e-6);
    EXPECT_NEAR(input.at({0, 1, 1, c}), 0.375, 1e-6);
    EXPECT_NEAR(input.at({0, 1, 2, c}), 0.625, 1e-6);
  }
  Tensor same = to_model_input(image_of({1, 2, 3}, {0, 51, 255, 102, 204, 153}), 1, 2, 3);
  EXPECT_ALL_CLOSE(same, tensor({0, 0.2f, 1, 0.4f, 0.8f, 0.6f}, {1, 1, 2, 3}), 1e-6, 1e-6);
}

TEST_F(ImageTest, ModelInputRejectsBadRequests) {
  expect_error([] { to_model_input(zeros({4, 4, 1}), 2, 2, 1); }, "expects a u8 image, got f32");
  expect_error([] { to_model_input(zeros({4, 4}, DType::u8), 2, 2, 1); }, "got shape [4, 4]");
  expect_error([] { to_model_input(zeros({4, 4, 1}, DType::u8), 2, 2, 2); }, "got (2, 2, 2)");
  // Absurd sizes are refused before anything is allocated (2^40 rows would be terabytes).
  expect_error([] { to_model_input(zeros({4, 4, 1}, DType::u8), std::int64_t{1} << 40, 4, 1); },
               "sides up to 2^16");
  expect_error([] { to_model_input(zeros({4, 4, 1}, DType::u8), 1 << 15, 1 << 15, 3); }, "at most 2^28 values");
  expect_error([] { to_model_input(zeros({1, 1 << 27, 1}, DType::u8), 4, 4, 1); }, "source image's width");
  EXPECT_EQ(to_model_input(zeros({1, 1 << 12, 1}, DType::u8), 1 << 14, 4, 3).shape(),
            (Shape{1, 1 << 14, 4, 3}));  // at the limit: 2^14 x 2^12 x 3 < 2^28
}

TEST_F(ImageTest, FitImagePadsToTheAspectRatioAndInvertsALightBackground) {
  // (4, 8) white with a black 2x2 block at rows 1-2, columns 3-4: padded to 8x8
  // (2 rows above, 2 below, in the border's white), then inverted.
  std::vector<std::uint8_t> values(4 * 8, 255);
  for (int y = 1; y <= 2; ++y)
    for (int x = 3; x <= 4; ++x) values[y * 8 + x] = 0;
  std::string done;
  Tensor input = io::fit_image(image_of({4, 8, 1}, values), 8, 8, 1, {}, &done);
  EXPECT_EQ(done, "8x4 grey: light background inverted, padded to 8x8");
  std::vector<float> expected(64, 0.0f);
  for (int y = 3; y <= 4; ++y)
    for (int x = 3; x <= 4; ++x) expected[y * 8 + x] = 1.0f;
  EXPECT_ALL_CLOSE(input, from_vector(expected, {1, 8, 8, 1}), 1e-6, 1e-6);

  // Turned off, it is to_model_input's stretch of the picture as it is.
  Tensor raw = io::fit_image(image_of({4, 8, 1}, values), 8, 8, 1, {.keep_aspect = false, .dark_background = false},
                             &done);
  EXPECT_EQ(done, "8x4 grey: resized to 8x8");
  EXPECT_ALL_CLOSE(raw, to_model_input(image_of({4, 8, 1}, values), 8, 8, 1), 0, 0);
}

TEST_F(ImageTest, FitImageLeavesAFashionMnistLikePictureAlone) {
  // Dark border, the model's size and channels: nothing to do, nothing said.
  std::vector<std::uint8_t> values(6 * 6, 0);
  values[2 * 6 + 3] = 200;
  std::string done = "not cleared";
  Tensor input = io::fit_image(image_of({6, 6, 1}, values), 6, 6, 1, {}, &done);
  EXPECT_EQ(done, "");
  EXPECT_ALL_CLOSE(input, to_model_input(image_of({6, 6, 1}, values), 6, 6, 1), 0, 0);
  // A tall colour photo of a light background: every step is named.
  std::vector<std::uint8_t> photo(10 * 4 * 3, 240);
  io::fit_image(image_of({10, 4, 3}, photo), 5, 5, 1, {}, &done);
  EXPECT_EQ(done, "4x10 RGB: light background inverted, padded to 10x10, resized to 5x5, made grey");
  // One column wide (the border walk must end) and errors named as to_model_input's.
  EXPECT_EQ(io::fit_image(image_of({3, 1, 1}, {9, 9, 9}), 2, 2, 1).shape(), (Shape{1, 2, 2, 1}));
  expect_error([] { io::fit_image(zeros({4, 4, 1}), 2, 2, 1); }, "fit_image expects a u8 image, got f32");
  expect_error([] { io::fit_image(zeros({1, 60000, 1}, DType::u8), 1, 1, 1); }, "over 2^16 pixels a side");
}

TEST_F(ImageTest, ReadingAFifoOrADirectoryIsRefused) {
  const std::string fifo = testing::error_reading_fifo(path("pipe.png"), [](const std::string& p) { read_png(p); });
  EXPECT_NE(fifo.find("cannot open image " + path("pipe.png") + ": a FIFO, not a regular file"), std::string::npos)
      << fifo;
  expect_error([&] { read_png(dir_.string()); }, "a directory, not a regular file");
}

}  // namespace
}  // namespace cortex
