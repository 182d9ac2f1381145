// The shift-invariance experiment on a small synthetic data set: its shape,
// its figures' granularity, and its argument checks.
#include <gtest/gtest.h>

#include <cmath>

#include "cortex/train/train.h"
#include "support/check.h"

namespace cortex::train {
namespace {

// 64 training and 8 test images of 28x28 with random labels: enough to run every step.
data::FashionMnist small_data() {
  Generator g(4);
  auto labels = [&](std::int64_t n) {
    std::vector<std::int64_t> v;
    for (std::int64_t i = 0; i < n; ++i) v.push_back(static_cast<std::int64_t>(g.next_below(10)));
    return from_vector(v, {n});
  };
  data::FashionMnist d;
  d.train = {rand({64, 28, 28, 1}, g), labels(64)};
  d.test = {rand({8, 28, 28, 1}, g), labels(8)};
  return d;
}

TEST(ShiftInvariance, FourCurvesOfAccuraciesOverTheTestImagesAndTheirShifts) {
  const auto curves = shift_invariance(small_data(), {.epochs = 1, .batch_size = 32, .max_shift = 2, .test_samples = 0});
  ASSERT_EQ(curves.size(), 4u);
  EXPECT_EQ(curves[0].label, "MLP");
  EXPECT_EQ(curves[3].label, "CNN + random shifts");
  for (const auto& c : curves) {
    ASSERT_EQ(c.accuracy.size(), 3u) << c.label;
    // Unshifted: a count of 8 images; shifted: the mean over four directions, a count of 32.
    EXPECT_NEAR(c.accuracy[0] * 8, std::round(c.accuracy[0] * 8), 1e-9) << c.label;
    for (std::size_t s = 1; s < 3; ++s) {
      EXPECT_GE(c.accuracy[s], 0.0);
      EXPECT_LE(c.accuracy[s], 1.0);
      EXPECT_NEAR(c.accuracy[s] * 32, std::round(c.accuracy[s] * 32), 1e-9) << c.label << " " << s;
    }
  }
  const std::string svg = shift_invariance_svg(curves);
  EXPECT_NE(svg.find("CNN + random shifts"), std::string::npos);
  std::size_t lines = 0;
  for (std::size_t at = svg.find("<polyline"); at != std::string::npos; at = svg.find("<polyline", at + 1)) ++lines;
  EXPECT_EQ(lines, 4u);
}

TEST(ShiftInvariance, BadOptionsAreClearErrors) {
  const auto d = small_data();
  EXPECT_THROW(shift_invariance(d, {.max_shift = 28}), ValueError);
  EXPECT_THROW(shift_invariance(d, {.epochs = 0}), ValueError);
  EXPECT_THROW(shift_invariance(d, {.test_samples = -1}), ValueError);
}

}  // namespace
}  // namespace cortex::train
