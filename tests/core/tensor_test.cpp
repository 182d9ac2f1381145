// Tensor basics: creation, views, copies, conversions, printing, randomness.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

#include "support/check.h"

namespace cortex {
namespace {

TEST(Tensor, CreationFillsValues) {
  Tensor z = zeros({2, 3});
  EXPECT_EQ(z.shape(), (Shape{2, 3}));
  EXPECT_EQ(z.dtype(), DType::f32);
  EXPECT_EQ(z.to_vector<float>(), std::vector<float>(6, 0.0f));
  EXPECT_EQ(full({2}, 2.5, DType::f64).to_vector<double>(), (std::vector<double>{2.5, 2.5}));
  EXPECT_EQ(arange(0, 5, 2).to_vector<float>(), (std::vector<float>{0, 2, 4}));
  EXPECT_EQ(arange(3, DType::i64).to_vector<std::int64_t>(), (std::vector<std::int64_t>{0, 1, 2}));
  EXPECT_EQ(linspace(0, 1, 5).to_vector<float>(), (std::vector<float>{0, 0.25f, 0.5f, 0.75f, 1}));
  Tensor t = tensor({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(t.at({1, 2}), 6.0);
  EXPECT_EQ(t.at({-1, 0}), 4.0);
  EXPECT_EQ(scalar(3.0).item(), 3.0);
}

TEST(Tensor, ViewsShareStorageAndHaveStrides) {
  Tensor t = arange(24).reshape({2, 3, 4});
  EXPECT_EQ(t.strides(), (Strides{12, 4, 1}));
  Tensor p = t.permute({2, 0, 1});
  EXPECT_EQ(p.shape(), (Shape{4, 2, 3}));
  EXPECT_EQ(p.strides(), (Strides{1, 12, 4}));
  EXPECT_FALSE(p.is_contiguous());
  EXPECT_EQ(p.at({3, 1, 2}), t.at({1, 2, 3}));
  EXPECT_EQ(p.storage(), t.storage());
  Tensor s = t.slice(2, 1, 4, 2);  // columns 1 and 3
  EXPECT_EQ(s.shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(s.to_vector<float>()[0], 1.0f);
  EXPECT_EQ(s.to_vector<float>()[1], 3.0f);
  EXPECT_EQ(t.select(1, -1).to_vector<float>(), (std::vector<float>{8, 9, 10, 11, 20, 21, 22, 23}));
  EXPECT_EQ(t.unsqueeze(0).shape(), (Shape{1, 2, 3, 4}));
  EXPECT_EQ(t.unsqueeze(0).squeeze(0).shape(), (Shape{2, 3, 4}));
  EXPECT_EQ(t.flatten(1).shape(), (Shape{2, 12}));
  EXPECT_EQ(t.reshape({-1, 4}).shape(), (Shape{6, 4}));
  Tensor e = tensor({1, 2, 3}).reshape({3, 1}).expand({3, 4});
  EXPECT_EQ(e.strides(), (Strides{1, 0}));
  EXPECT_EQ(e.contiguous().to_vector<float>()[5], 2.0f);
}

TEST(Tensor, ReshapeCopiesOnlyWhenItMust) {
  Tensor t = arange(12).reshape({3, 4});
  EXPECT_EQ(t.reshape({2, 6}).storage(), t.storage());
  Tensor tt = t.transpose(0, 1);
  EXPECT_THROW(tt.view({12}), ShapeError);
  Tensor flat = tt.reshape({12});
  EXPECT_NE(flat.storage(), t.storage());
  EXPECT_EQ(flat.to_vector<float>()[1], 4.0f);  // column-major walk of t
}

TEST(Tensor, CopyAndConvert) {
  Tensor t = tensor({1.5f, -2.25f, 3.0f});
  Tensor c = t.clone();
  c.fill_(0);
  EXPECT_EQ(t.to_vector<float>()[0], 1.5f);
  EXPECT_EQ(t.to(DType::i32).to_vector<std::int32_t>(), (std::vector<std::int32_t>{1, -2, 3}));
  EXPECT_EQ(t.to(DType::f64).to_vector<double>()[1], -2.25);
  EXPECT_EQ(t.to(DType::boolean).to(DType::u8).to_vector<std::uint8_t>(), (std::vector<std::uint8_t>{1, 1, 1}));
  Tensor b = t.to(DType::bf16);
  EXPECT_EQ(b.dtype(), DType::bf16);
  EXPECT_EQ(b.to(DType::f32).to_vector<float>(), t.to_vector<float>());  // exactly representable
  EXPECT_EQ(static_cast<float>(bf16(1.00390625f)), 1.0f);               // ties round to even
  Tensor dst = zeros({2, 3});
  dst.copy_(tensor({1, 2, 3}));  // broadcast over rows
  EXPECT_EQ(dst.to_vector<float>(), (std::vector<float>{1, 2, 3, 1, 2, 3}));
}

TEST(Tensor, PrintsLikeNumpy) {
  Tensor t = tensor({1, 2.5f, -3, 4}, {2, 2});
  EXPECT_EQ(t.str(), "tensor([[ 1.0000,  2.5000],\n        [-3.0000,  4.0000]], shape=[2, 2], dtype=f32)");
  EXPECT_EQ(arange(3, DType::i64).str(), "tensor([0, 1, 2], shape=[3], dtype=i64)");
  std::string big = arange(2000).str();
  EXPECT_NE(big.find("..."), std::string::npos);
  EXPECT_NE(big.find("1999"), std::string::npos);
}

TEST(Generator, SameSeedSameNumbersAnyThreadCount) {
  Generator a(5), b(5), c(6);
  set_num_threads(1);
  Tensor x = randn({100000}, a);
  set_num_threads(2);
  Tensor y = randn({100000}, b);
  set_num_threads(2);  // the suite's default
  EXPECT_EQ(x.to_vector<float>(), y.to_vector<float>());
  EXPECT_NE(randn({4}, c).to_vector<float>(), randn({4}, a).to_vector<float>());
}

TEST(Generator, DistributionsHaveTheRightMoments) {
  Generator g(1);
  Tensor n = normal({200000}, 2.0, 3.0, g);
  EXPECT_NEAR(mean(n).item(), 2.0, 0.03);
  EXPECT_NEAR(cortex::std(n).item(), 3.0, 0.03);
  Tensor u = uniform({200000}, -1.0, 3.0, g);
  EXPECT_NEAR(mean(u).item(), 1.0, 0.02);
  EXPECT_GE(min(u).item(), -1.0);
  EXPECT_LT(max(u).item(), 3.0);
  EXPECT_NEAR(mean(bernoulli({200000}, 0.3, g)).item(), 0.3, 0.005);
}

TEST(TensorErrors, NameWhatWasExpectedAndFound) {
  Tensor t = zeros({2, 3});
  try {
    t.reshape({4, 2});
    FAIL() << "reshape to a wrong element count must throw";
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("[2, 3]"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[4, 2]"), std::string::npos) << e.what();
  }
  EXPECT_THROW(t.transpose(0, 2), IndexError);
  EXPECT_THROW(t.select(0, 2), IndexError);
  EXPECT_THROW(t.squeeze(0), ShapeError);
  EXPECT_THROW(t.item(), ShapeError);
  EXPECT_THROW(t.at({0}), IndexError);
  EXPECT_THROW(t.data<double>(), DTypeError);
  EXPECT_THROW(t.expand({3, 3}), ShapeError);
  EXPECT_THROW(zeros({2}, DType::i64).set_requires_grad(true), DTypeError);
  EXPECT_THROW(Tensor::empty({-1}), ValueError);
  EXPECT_THROW(zeros({2}).to(Device::cuda(99)), DeviceError);  // no machine has a GPU 99
  EXPECT_THROW(Tensor().shape(), ValueError);
  EXPECT_THROW(set_num_threads(0), ValueError);
  EXPECT_THROW(zeros({3}).expand({}), ShapeError);
  EXPECT_THROW(tensor({1}).expand({-2}), ShapeError);
  EXPECT_THROW(zeros({2}).as_strided({1000000}, {1}, 0), IndexError);
  EXPECT_THROW(zeros({2}).as_strided({2}, {1}, -1), IndexError);
  EXPECT_THROW(full({3}, NAN, DType::i32), ValueError);
  EXPECT_THROW(arange(0, 1e300, 1), ValueError);
  EXPECT_THROW(zeros({1}).expand({3}).copy_(ones({3})), ValueError);
  Tensor leaf = zeros({2}).set_requires_grad(true);
  EXPECT_THROW(leaf.set_grad(zeros({3})), AutogradError);
}

TEST(TensorErrors, ElementCountsThatOverflowAreRefused) {
  // 274177 x 67280421310721 = 2^64 + 1: a wrapped count of 1 would pass for one element.
  EXPECT_THROW(ones({1}).expand({274177, 67280421310721}), ShapeError);
  EXPECT_THROW(ones({1}).expand({std::int64_t{1} << 32, std::int64_t{1} << 32}), ShapeError);
  EXPECT_THROW(zeros({6}).reshape({std::int64_t{1} << 32, std::int64_t{1} << 32, 6}), ShapeError);
  // A zero size empties the tensor, but the sizes beside it still count.
  EXPECT_THROW(zeros({0}).reshape({std::int64_t{1} << 31, std::int64_t{1} << 31, 4, 0}), ShapeError);
  EXPECT_THROW(Tensor::empty({0, std::int64_t{1} << 32, std::int64_t{1} << 32}), ValueError);
  EXPECT_THROW(zeros({2}).as_strided({3, 2}, {std::int64_t{1} << 62, std::int64_t{1} << 62}, 0), IndexError);
  // Large sizes that fit still work, with the strides a contiguous tensor has.
  Tensor e = Tensor::empty({0, std::int64_t{1} << 20, 8});
  EXPECT_EQ(e.strides(), (Strides{8 << 20, 8, 1}));
  EXPECT_EQ(zeros({0}).reshape({4, 0, std::int64_t{1} << 30}).numel(), 0);
  EXPECT_EQ(numel({0, std::int64_t{1} << 40, std::int64_t{1} << 20}), 0);
  EXPECT_THROW(numel({0, std::int64_t{1} << 40, std::int64_t{1} << 30}), ShapeError);
}

TEST(TensorErrors, FullAndFillStoreOnlyValuesThatFit) {
  EXPECT_THROW(full({2}, 1e30, DType::i32), ValueError);  // would wrap to -1
  EXPECT_THROW(full({2}, -1, DType::u8), ValueError);     // would wrap to 255
  EXPECT_THROW(full({2}, 256, DType::u8), ValueError);
  EXPECT_THROW(zeros({2}, DType::i64).fill_(NAN), ValueError);  // would be 0
  EXPECT_THROW(zeros({2}, DType::i64).fill_(9223372036854775808.0), ValueError);
  EXPECT_EQ(full({1}, 2147483647.9, DType::i32).item(), 2147483647.0);  // truncates, fits
  EXPECT_EQ(full({1}, -2147483648.5, DType::i32).item(), -2147483648.0);
  EXPECT_EQ(full({1}, 255.5, DType::u8).item(), 255.0);
  EXPECT_EQ(zeros({1}, DType::i64).fill_(-9223372036854775808.0).to_vector<std::int64_t>()[0], INT64_MIN);
  EXPECT_EQ(full({1}, 7, DType::boolean).item(), 1.0);  // nonzero is true
  EXPECT_TRUE(std::isnan(full({1}, NAN).item()));      // floating dtypes take anything
}

TEST(TensorErrors, RankZeroTensorsHaveNoAxes) {
  Tensor s = scalar(1);
  EXPECT_THROW(s.size(0), IndexError);
  EXPECT_THROW(s.transpose(0, 0), IndexError);
  EXPECT_THROW(s.slice(0, 0, 1), IndexError);
  EXPECT_THROW(s.select(0, 0), IndexError);
  EXPECT_THROW(s.squeeze(0), IndexError);
  EXPECT_EQ(s.unsqueeze(0).shape(), (Shape{1}));
  EXPECT_EQ(s.flatten().shape(), (Shape{1}));
}

TEST(Tensor, CopyBetweenOverlappingViewsReadsTheSourceFirst) {
  Tensor t = arange(4).reshape({2, 2});
  t.copy_(t.transpose(0, 1));
  EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{0, 2, 1, 3}));
  Tensor r = arange(6);
  r.slice(0, 0, 5).copy_(r.slice(0, 1, 6));
  EXPECT_EQ(r.to_vector<float>(), (std::vector<float>{1, 2, 3, 4, 5, 5}));
}

TEST(Tensor, SliceAndLinspaceEdges) {
  EXPECT_EQ(arange(10).slice(0, 0, 5, INT64_MAX).shape(), (Shape{1}));
  EXPECT_EQ(arange(10).slice(0, 7, 3).shape(), (Shape{0}));
  EXPECT_EQ(linspace(0, 10, 1).to_vector<float>(), (std::vector<float>{0}));
}

}  // namespace
}  // namespace cortex
