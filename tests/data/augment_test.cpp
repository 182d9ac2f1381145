// random_shift: a pattern with unique pixel values shows each image's offset, which must be in range and exact.
#include <limits>
#include <set>

#include "cortex/data/augment.h"
#include "data/idx_files.h"
#include "support/check.h"

namespace cortex {
namespace {

using data::FillMode;
using data::random_shift;
using testing::expect_error;

constexpr std::int64_t kH = 9, kW = 11, kC = 2;

// (n, kH, kW, kC) with pixel (i, j, c) of every image = 1 + (i * kW + j) * kC + c: all values distinct.
Tensor numbered(std::int64_t n, DType dtype = DType::f32) {
  std::vector<float> v;
  for (std::int64_t img = 0; img < n; ++img)
    for (std::int64_t p = 0; p < kH * kW * kC; ++p) v.push_back(static_cast<float>(1 + p));
  return from_vector(v, {n, kH, kW, kC}).to(dtype);
}

// Recovers (dy, dx) from the centre pixel, then checks every pixel of image `img` against it.
std::pair<std::int64_t, std::int64_t> check_image(const std::vector<float>& out, std::int64_t img, FillMode fill) {
  const float* o = out.data() + img * kH * kW * kC;
  std::int64_t ci = kH / 2, cj = kW / 2;
  std::int64_t p = static_cast<std::int64_t>(o[(ci * kW + cj) * kC]) - 1;  // source pixel of the centre
  std::int64_t dy = ci - p / kC / kW, dx = cj - p / kC % kW;
  for (std::int64_t i = 0; i < kH; ++i)
    for (std::int64_t j = 0; j < kW; ++j)
      for (std::int64_t c = 0; c < kC; ++c) {
        std::int64_t si = i - dy, sj = j - dx;
        bool inside = si >= 0 && si < kH && sj >= 0 && sj < kW;
        si = std::clamp<std::int64_t>(si, 0, kH - 1);
        sj = std::clamp<std::int64_t>(sj, 0, kW - 1);
        float expected = fill == FillMode::constant && !inside ? 0.0f : static_cast<float>(1 + (si * kW + sj) * kC + c);
        EXPECT_EQ(o[(i * kW + j) * kC + c], expected)
            << "image " << img << " pixel (" << i << ", " << j << ", " << c << ") with offset (" << dy << ", " << dx
            << ")";
      }
  return {dy, dx};
}

TEST(RandomShift, MovesEachImageByAnOffsetInRange) {
  // 0.3 * 9 -> dy in [-2, 2]; 0.3 * 11 -> dx in [-3, 3] (both keep the centre pixel inside).
  for (FillMode fill : {FillMode::nearest, FillMode::constant}) {
    Generator gen(42);
    const std::int64_t n = 300;
    std::vector<float> out = random_shift(numbered(n), 0.3, 0.3, gen, fill).to_vector<float>();
    std::set<std::int64_t> dys, dxs;
    for (std::int64_t img = 0; img < n; ++img) {
      auto [dy, dx] = check_image(out, img, fill);
      dys.insert(dy);
      dxs.insert(dx);
    }
    EXPECT_EQ(dys, (std::set<std::int64_t>{-2, -1, 0, 1, 2}));
    EXPECT_EQ(dxs, (std::set<std::int64_t>{-3, -2, -1, 0, 1, 2, 3}));
  }
}

TEST(RandomShift, KnownShiftOfASinglePixel) {
  // A 1-pixel image set at (1, 1) in a 3x3 zero image: with fraction 1/3 every offset is in [-1, 1].
  std::vector<std::uint8_t> v(64 * 9, 0);
  for (int n = 0; n < 64; ++n) v[n * 9 + 4] = 200;
  Generator gen(1);
  Tensor shifted = random_shift(from_vector(v, {64, 3, 3, 1}), 1.0 / 3.0, 1.0 / 3.0, gen, FillMode::constant);
  ASSERT_EQ(shifted.dtype(), DType::u8);
  std::vector<std::uint8_t> out = shifted.to_vector<std::uint8_t>();
  std::set<int> positions;
  for (int n = 0; n < 64; ++n) {
    int bright = 0, where = -1;
    for (int p = 0; p < 9; ++p)
      if (out[n * 9 + p] != 0) ++bright, where = p;
    ASSERT_EQ(bright, 1) << "image " << n;
    EXPECT_EQ(out[n * 9 + where], 200);
    positions.insert(where);
  }
  EXPECT_EQ(positions.size(), 9u);  // all nine offsets occur
}

TEST(RandomShift, ZeroFractionIsTheIdentityAndSeedsRepeat) {
  Generator gen(3);
  Tensor x = numbered(4);
  EXPECT_EQ(random_shift(x, 0.0, 0.0, gen).to_vector<float>(), x.to_vector<float>());
  Generator a(5), b(5), c(6);
  Tensor big = numbered(64);
  std::vector<float> ra = random_shift(big, 0.3, 0.3, a).to_vector<float>();
  EXPECT_EQ(random_shift(big, 0.3, 0.3, b).to_vector<float>(), ra);
  EXPECT_NE(random_shift(big, 0.3, 0.3, c).to_vector<float>(), ra);
  EXPECT_NE(random_shift(big, 0.3, 0.3, a).to_vector<float>(), ra);  // the generator moved on
}

TEST(RandomShift, BadArguments) {
  Generator gen(0);
  expect_error<ShapeError>([&] { random_shift(zeros({28, 28, 1}), 0.1, 0.1, gen); }, {"rank-4 NHWC", "[28, 28, 1]"});
  expect_error<ValueError>([&] { random_shift(zeros({1, 4, 4, 1}), -0.1, 0.1, gen); }, {"height_fraction", "[0, 1]"});
  expect_error<ValueError>([&] { random_shift(zeros({1, 4, 4, 1}), 0.1, 1.5, gen); }, {"width_fraction", "1.5"});
}

TEST(Shift, MovesEveryImageByTheSameOffsetWithZerosOrEdges) {
  Tensor x = numbered(2);
  Tensor y = data::shift(x, 2, -3);  // down 2, left 3, zeros in
  for (std::int64_t img = 0; img < 2; ++img)
    for (std::int64_t i = 0; i < kH; ++i)
      for (std::int64_t j = 0; j < kW; ++j)
        for (std::int64_t c = 0; c < kC; ++c) {
          const std::int64_t si = i - 2, sj = j + 3;
          const double want = si >= 0 && sj < kW ? x.at({img, si, sj, c}) : 0.0;
          ASSERT_EQ(y.at({img, i, j, c}), want) << img << " " << i << " " << j << " " << c;
        }
  Tensor edge = data::shift(x, 0, 1, FillMode::nearest);
  EXPECT_EQ(edge.at({0, 4, 0, 1}), x.at({0, 4, 0, 1}));  // the first column repeats
  EXPECT_EQ(edge.at({0, 4, 5, 1}), x.at({0, 4, 4, 1}));
  expect_error<ShapeError>([&] { data::shift(zeros({4, 4}), 1, 1); }, {"shift", "rank-4 NHWC"});
  // Offsets past the image are the same as the whole image's, up to 2^63 (no overflow).
  const std::int64_t big = std::numeric_limits<std::int64_t>::max(), small = std::numeric_limits<std::int64_t>::min();
  for (FillMode fill : {FillMode::constant, FillMode::nearest}) {
    EXPECT_EQ(data::shift(x, 0, big, fill).to_vector<float>(), data::shift(x, 0, kW, fill).to_vector<float>());
    EXPECT_EQ(data::shift(x, small, 0, fill).to_vector<float>(), data::shift(x, -kH, 0, fill).to_vector<float>());
    EXPECT_EQ(data::shift(x, big, small, fill).to_vector<float>(), data::shift(x, kH, -kW, fill).to_vector<float>());
  }
}

}  // namespace
}  // namespace cortex
