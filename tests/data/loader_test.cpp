// DataLoader: coverage, seeded order per epoch, drop_last, shards, prefetch errors and shutdown, transforms.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <limits>
#include <numeric>
#include <set>
#include <stdexcept>
#include <thread>

#include "cortex/data/augment.h"
#include "cortex/data/loader.h"
#include "data/idx_files.h"
#include "support/check.h"

namespace cortex {
namespace {

using data::Batch;
using data::DataLoader;
using data::LoaderOptions;
using testing::expect_error;

// x: (n, 2) with row i = (i, -i); y: (n) i64 with y[i] = i.
std::pair<Tensor, Tensor> rows(std::int64_t n) {
  std::vector<float> x;
  std::vector<std::int64_t> y;
  for (std::int64_t i = 0; i < n; ++i) {
    x.push_back(static_cast<float>(i));
    x.push_back(-static_cast<float>(i));
    y.push_back(i);
  }
  return {from_vector(x, {n, 2}), from_vector(y)};
}

DataLoader loader(std::int64_t n, LoaderOptions options) {
  auto [x, y] = rows(n);
  return DataLoader(x, y, std::move(options));
}

// One epoch through range-for; checks that x and y rows stay paired and returns the row order.
std::vector<std::int64_t> one_epoch(DataLoader& dl, std::vector<std::int64_t>* sizes = nullptr) {
  std::vector<std::int64_t> order;
  std::int64_t expected_index = 0;
  for (const Batch& b : dl) {
    EXPECT_EQ(b.index, expected_index++);
    std::vector<float> x = b.x.to_vector<float>();
    std::vector<std::int64_t> y = b.y.to_vector<std::int64_t>();
    EXPECT_EQ(b.x.shape(), (Shape{static_cast<std::int64_t>(y.size()), 2}));
    for (std::size_t i = 0; i < y.size(); ++i) {
      EXPECT_EQ(x[2 * i], static_cast<float>(y[i]));
      EXPECT_EQ(x[2 * i + 1], -static_cast<float>(y[i]));
    }
    order.insert(order.end(), y.begin(), y.end());
    if (sizes) sizes->push_back(static_cast<std::int64_t>(y.size()));
  }
  return order;
}

std::vector<std::int64_t> iota(std::int64_t n) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), std::int64_t{0});
  return v;
}

std::vector<std::int64_t> sorted(std::vector<std::int64_t> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST(DataLoader, EachEpochCoversEverySampleOnce) {
  DataLoader dl = loader(103, {.batch_size = 10, .seed = 7});
  EXPECT_EQ(dl.num_batches(), 11);
  EXPECT_EQ(dl.num_samples(), 103);
  for (int e = 0; e < 3; ++e) {
    std::vector<std::int64_t> sizes;
    std::vector<std::int64_t> order = one_epoch(dl, &sizes);
    EXPECT_EQ(sorted(order), iota(103)) << "epoch " << e;
    EXPECT_NE(order, iota(103)) << "epoch " << e << " is not shuffled";
    EXPECT_EQ(sizes.size(), 11u);
    EXPECT_EQ(sizes.back(), 3);
    EXPECT_EQ(dl.epoch(), e + 1);
  }
}

TEST(DataLoader, OrderDependsOnSeedAndEpochOnly) {
  DataLoader a = loader(50, {.batch_size = 8, .seed = 3});
  DataLoader b = loader(50, {.batch_size = 8, .seed = 3, .prefetch = 0});  // gathered on this thread
  DataLoader other_seed = loader(50, {.batch_size = 8, .seed = 4});
  std::vector<std::vector<std::int64_t>> epochs;
  for (int e = 0; e < 3; ++e) {
    epochs.push_back(one_epoch(a));
    EXPECT_EQ(one_epoch(b), epochs.back()) << "epoch " << e;
    EXPECT_NE(one_epoch(other_seed), epochs.back()) << "epoch " << e;
  }
  EXPECT_NE(epochs[0], epochs[1]);
  EXPECT_NE(epochs[1], epochs[2]);
  // A resumed run jumps straight to epoch 2 and sees the same order, bit for bit.
  DataLoader resumed = loader(50, {.batch_size = 8, .seed = 3});
  resumed.set_epoch(2);
  EXPECT_EQ(one_epoch(resumed), epochs[2]);
  resumed.set_epoch(0);
  EXPECT_EQ(one_epoch(resumed), epochs[0]);
}

TEST(DataLoader, NoShuffleKeepsTheOrder) {
  DataLoader dl = loader(10, {.batch_size = 4, .shuffle = false});
  EXPECT_EQ(one_epoch(dl), iota(10));
  EXPECT_EQ(one_epoch(dl), iota(10));
}

TEST(DataLoader, DropLastSkipsTheShortBatch) {
  DataLoader dl = loader(10, {.batch_size = 4, .drop_last = true, .seed = 1});
  EXPECT_EQ(dl.num_batches(), 2);
  EXPECT_EQ(dl.num_samples(), 8);
  std::vector<std::int64_t> sizes;
  std::vector<std::int64_t> order = one_epoch(dl, &sizes);
  EXPECT_EQ(sizes, (std::vector<std::int64_t>{4, 4}));
  EXPECT_EQ(std::set<std::int64_t>(order.begin(), order.end()).size(), 8u);
  DataLoader tiny = loader(3, {.batch_size = 4, .drop_last = true});
  EXPECT_EQ(tiny.num_batches(), 0);
  EXPECT_FALSE(tiny.next().has_value());
}

TEST(DataLoader, NextAndBreakAdvanceEpochs) {
  DataLoader dl = loader(6, {.batch_size = 4, .seed = 9});
  ASSERT_TRUE(dl.next().has_value());
  ASSERT_TRUE(dl.next().has_value());
  EXPECT_FALSE(dl.next().has_value());
  EXPECT_EQ(dl.epoch(), 1);
  for (const Batch& b : dl) {  // leaves epoch 1 early
    EXPECT_EQ(b.index, 0);
    break;
  }
  std::vector<std::int64_t> sizes;
  one_epoch(dl, &sizes);  // a fresh pass: all of epoch 2
  EXPECT_EQ(sizes, (std::vector<std::int64_t>{4, 2}));
  EXPECT_EQ(dl.epoch(), 3);
}

TEST(DataLoader, ShardsAreDisjointAndEqual) {
  const int world = 3;
  for (int e = 0; e < 2; ++e) {
    std::vector<std::int64_t> all;
    for (int rank = 0; rank < world; ++rank) {
      DataLoader dl = loader(32, {.batch_size = 4, .seed = 5, .rank = rank, .world_size = world});
      EXPECT_EQ(dl.num_samples(), 10);  // 32 / 3, the 2 left over are skipped this epoch
      EXPECT_EQ(dl.num_batches(), 3);
      dl.set_epoch(e);
      std::vector<std::int64_t> shard = one_epoch(dl);
      EXPECT_EQ(shard.size(), 10u);
      all.insert(all.end(), shard.begin(), shard.end());
    }
    EXPECT_EQ(std::set<std::int64_t>(all.begin(), all.end()).size(), 30u) << "shards overlap in epoch " << e;
  }
}

TEST(DataLoader, WorkerExceptionsReachTheConsumer) {
  auto fail_on_row_4 = [](const Tensor& x, Generator&) {
    if (x.at({0, 0}) == 4.0) throw std::runtime_error("transform failed on row 4");
    return x;
  };
  LoaderOptions options{.batch_size = 2, .shuffle = false, .transform = fail_on_row_4};
  DataLoader dl = loader(10, options);
  ASSERT_TRUE(dl.next().has_value());  // rows 0, 1
  ASSERT_TRUE(dl.next().has_value());  // rows 2, 3
  expect_error<std::runtime_error>([&] { dl.next(); }, {"transform failed on row 4"});
  std::optional<Batch> again = dl.next();  // the epoch starts over
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->index, 0);

  auto first_row = [](const Tensor& x, Generator&) { return x.slice(0, 0, 1); };
  DataLoader bad_shape(rows(4).first, Tensor(), {.transform = first_row});
  expect_error<ShapeError>([&] { bad_shape.next(); }, {"transform", "4 rows", "[1, 2]"});
}

TEST(DataLoader, DestroyingARunningLoaderDoesNotHang) {
  std::atomic<int> calls{0};
  auto slow = [&calls](const Tensor& x, Generator&) {
    ++calls;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return x;
  };
  auto start = std::chrono::steady_clock::now();
  {
    DataLoader dl = loader(1000, {.batch_size = 1, .prefetch = 4, .transform = slow});
    ASSERT_TRUE(dl.next().has_value());
  }
  {
    DataLoader untouched = loader(1000, {.batch_size = 1, .transform = slow});
    DataLoader moved = std::move(untouched);
    ASSERT_TRUE(moved.next().has_value());
    moved.set_epoch(5);  // abandons the pass in flight
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 2.0);
  EXPECT_LT(calls.load(), 20);  // the workers stopped after their prefetch window
}

TEST(DataLoader, TransformsAreReproducible) {
  Generator g(11);
  Tensor images = rand({40, 6, 6, 1}, g);
  auto shift = [](const Tensor& x, Generator& gen) { return data::random_shift(x, 0.34, 0.34, gen); };
  auto run = [&](std::int64_t epoch, int prefetch) {
    DataLoader dl(images, Tensor(), {.batch_size = 16, .seed = 2, .prefetch = prefetch, .transform = shift});
    dl.set_epoch(epoch);
    std::vector<float> out;
    for (const Batch& b : dl) {
      std::vector<float> v = b.x.to_vector<float>();
      out.insert(out.end(), v.begin(), v.end());
    }
    return out;
  };
  std::vector<float> first = run(1, 2);
  EXPECT_EQ(first.size(), 40u * 36u);
  EXPECT_EQ(run(1, 2), first);
  EXPECT_EQ(run(1, 0), first);  // the same numbers whichever thread runs the transform
  EXPECT_NE(run(2, 2), first);
}

TEST(DataLoader, ABatchSizeNear2To63IsOneBatch) {
  const std::int64_t huge = std::numeric_limits<std::int64_t>::max();
  for (bool drop_last : {false, true}) {
    DataLoader dl = loader(10, {.batch_size = huge, .shuffle = false, .drop_last = drop_last});
    EXPECT_EQ(dl.num_batches(), drop_last ? 0 : 1);
    std::vector<std::int64_t> sizes;
    EXPECT_EQ(one_epoch(dl, &sizes), drop_last ? std::vector<std::int64_t>{} : iota(10));
    EXPECT_EQ(sizes, drop_last ? std::vector<std::int64_t>{} : std::vector<std::int64_t>{10});
  }
}

TEST(DataLoader, BadArguments) {
  auto [x, y] = rows(4);
  expect_error<ValueError>([&] { DataLoader(x, y, {.batch_size = 0}); }, {"batch_size >= 1", "got 0"});
  expect_error<ValueError>([&] { DataLoader(x, y, {.prefetch = -1}); }, {"prefetch >= 0"});
  expect_error<ValueError>([&] { DataLoader(x, y, {.rank = 2, .world_size = 2}); }, {"rank 2 of world_size 2"});
  expect_error<ShapeError>([&] { DataLoader(x, rows(5).second); }, {"as many rows", "[4, 2]", "[5]"});
  expect_error<ShapeError>([&] { DataLoader(scalar(1.0), Tensor()); }, {"rank >= 1"});
  DataLoader dl(x, y);
  expect_error<ValueError>([&] { dl.set_epoch(-1); }, {"set_epoch", "-1"});
}

}  // namespace
}  // namespace cortex
