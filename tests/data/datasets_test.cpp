// Datasets: IDX pairs become (N, H, W, 1) f32 and (N) i64; Fashion-MNIST loads, or says how to install it.
#include <algorithm>
#include <filesystem>

#include "cortex/data/datasets.h"
#include "cortex/data/labels.h"
#include "data/idx_files.h"
#include "support/check.h"

namespace cortex {
namespace {

using testing::Bytes;
using testing::expect_error;
using testing::idx_bytes;

constexpr const char* kFashionDir = "/usr/share/datasets/fashion-mnist";

class IdxDataset : public testing::ScratchDir {};

TEST_F(IdxDataset, ImagesGainAChannelAndScaleTo01) {
  std::string images = write_gz("img.gz", idx_bytes(0x08, {3, 2, 2}, {0, 255, 51, 102, 1, 2, 3, 4, 5, 6, 7, 8}));
  std::string labels = write_raw("lab", idx_bytes(0x08, {3}, {9, 0, 4}));
  data::Dataset d = data::load_idx_dataset(images, labels);
  ASSERT_EQ(d.x.shape(), (Shape{3, 2, 2, 1}));
  ASSERT_EQ(d.x.dtype(), DType::f32);
  ASSERT_EQ(d.y.dtype(), DType::i64);
  EXPECT_EQ(d.y.to_vector<std::int64_t>(), (std::vector<std::int64_t>{9, 0, 4}));
  std::vector<float> x = d.x.to_vector<float>();
  EXPECT_EQ(x[0], 0.0f);
  EXPECT_EQ(x[1], 1.0f);
  EXPECT_FLOAT_EQ(x[2], 0.2f);
  EXPECT_FLOAT_EQ(x[11], 8.0f / 255.0f);
}

TEST_F(IdxDataset, MismatchedPairsAreNamed) {
  std::string images = write_raw("img", idx_bytes(0x08, {3, 2, 2}, Bytes(12, 0)));
  std::string four = write_raw("four", idx_bytes(0x08, {4}, Bytes(4, 0)));
  std::string floats = write_raw("floats", idx_bytes(0x0D, {3}, Bytes(12, 0)));
  expect_error<ShapeError>([&] { data::load_idx_dataset(images, four); },
                           {"as many labels as images", "3 images", images, "4 labels", four});
  expect_error<ShapeError>([&] { data::load_idx_dataset(images, floats); }, {"integer labels", floats, "f32"});
  expect_error<ShapeError>([&] { data::load_idx_dataset(four, four); }, {"rank >= 2", four, "[4]"});
}

TEST_F(IdxDataset, MissingFashionMnistSaysWhatToInstall) {
  std::string missing = path("not-there");
  expect_error<Error>([&] { data::fashion_mnist(missing); },
                      {"apt-get install dataset-fashion-mnist", missing, "no such directory"});
  // A directory with only some of the files names the missing ones.
  write_gz("train-images-idx3-ubyte.gz", idx_bytes(0x08, {1, 1, 1}, {0}));
  std::string labels = path("train-labels-idx1-ubyte.gz"), test_images = path("t10k-images-idx3-ubyte.gz");
  expect_error<Error>([&] { data::fashion_mnist(dir_.string()); },
                      {"apt-get install dataset-fashion-mnist", "found no " + labels + ", " + test_images});
  try {
    data::fashion_mnist(dir_.string());
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).find("train-images"), std::string::npos) << e.what();
  }
}

TEST_F(IdxDataset, AnyDirectoryWithTheFourFilesLoads) {
  write_gz("train-images-idx3-ubyte.gz", idx_bytes(0x08, {2, 1, 2}, {0, 255, 255, 0}));
  write_gz("train-labels-idx1-ubyte.gz", idx_bytes(0x08, {2}, {1, 2}));
  write_raw("t10k-images-idx3-ubyte", idx_bytes(0x08, {1, 1, 2}, {255, 255}));  // uncompressed works too
  write_raw("t10k-labels-idx1-ubyte", idx_bytes(0x08, {1}, {7}));
  data::FashionMnist d = data::fashion_mnist(dir_.string());
  EXPECT_EQ(d.train.x.shape(), (Shape{2, 1, 2, 1}));
  EXPECT_EQ(d.test.x.shape(), (Shape{1, 1, 2, 1}));
  EXPECT_EQ(d.test.y.to_vector<std::int64_t>(), (std::vector<std::int64_t>{7}));
}

TEST(FashionMnist, LoadsTheDebianPackage) {
  if (!std::filesystem::is_directory(kFashionDir))
    GTEST_SKIP() << kFashionDir << " is missing (apt-get install dataset-fashion-mnist)";
  data::FashionMnist d = data::fashion_mnist();
  ASSERT_EQ(d.train.x.shape(), (Shape{60000, 28, 28, 1}));
  ASSERT_EQ(d.test.x.shape(), (Shape{10000, 28, 28, 1}));
  ASSERT_EQ(d.train.y.shape(), (Shape{60000}));
  ASSERT_EQ(d.test.y.shape(), (Shape{10000}));
  ASSERT_EQ(d.train.x.dtype(), DType::f32);
  ASSERT_EQ(d.train.y.dtype(), DType::i64);
  // Balanced classes: 6000 of each in train, 1000 in test; the first labels as published.
  for (auto [set, per_class, first] : {std::tuple{&d.train, 6000, std::vector<std::int64_t>{9, 0, 0, 3, 0, 2}},
                                       std::tuple{&d.test, 1000, std::vector<std::int64_t>{9, 2, 1, 1, 6, 1}}}) {
    std::vector<std::int64_t> y = set->y.to_vector<std::int64_t>();
    for (std::int64_t c = 0; c < 10; ++c) EXPECT_EQ(std::count(y.begin(), y.end(), c), per_class) << "class " << c;
    EXPECT_TRUE(std::equal(first.begin(), first.end(), y.begin()));
    const float* x = set->x.data<float>();
    auto [lo, hi] = std::minmax_element(x, x + set->x.numel());
    EXPECT_EQ(*lo, 0.0f);
    EXPECT_EQ(*hi, 1.0f);
  }
  // The first training image's pixels sum to 76247 / 255 (from the raw file).
  EXPECT_NEAR(d.train.x.select(0, 0).to(DType::f64).sum().item(), 76247.0 / 255.0, 1e-3);
  EXPECT_EQ(data::fashion_mnist_class_names()[9], "Ankle boot");
  EXPECT_EQ(data::fashion_mnist_class_names()[0], "T-shirt/top");
}

TEST(ToCategorical, OneHotRowsLikeKeras) {
  Tensor y = data::to_categorical(from_vector<std::int64_t>({2, 0, 1}), 3);
  ASSERT_EQ(y.shape(), (Shape{3, 3}));
  ASSERT_EQ(y.dtype(), DType::f32);
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{0, 0, 1, 1, 0, 0, 0, 1, 0}));
  Tensor column = data::to_categorical(from_vector<std::int32_t>({1, 3}, {2, 1}), 4);  // (N, 1) -> (N, C)
  EXPECT_EQ(column.shape(), (Shape{2, 4}));
  EXPECT_EQ(column.to_vector<float>(), (std::vector<float>{0, 1, 0, 0, 0, 0, 0, 1}));
  EXPECT_EQ(data::to_categorical(from_vector<std::uint8_t>({9}), 10).at({0, 9}), 1.0);
}

TEST(ToCategorical, BadLabels) {
  expect_error<IndexError>([] { data::to_categorical(from_vector<std::int64_t>({0, 10}), 10); },
                           {"to_categorical", "[0, 9]", "got 10", "position 1"});
  expect_error<IndexError>([] { data::to_categorical(from_vector<std::int64_t>({-1}), 10); }, {"got -1"});
  expect_error<DTypeError>([] { data::to_categorical(tensor({1.0f}), 10); }, {"integer labels", "f32"});
  expect_error<ValueError>([] { data::to_categorical(from_vector<std::int64_t>({0}), 0); }, {"num_classes >= 1"});
}

}  // namespace
}  // namespace cortex
