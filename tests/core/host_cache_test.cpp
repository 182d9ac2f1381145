// The host allocator's cache of large blocks (cortex/core/storage.h).
#include <gtest/gtest.h>

#include <cstdint>

#include "cortex/core/storage.h"
#include "support/check.h"

namespace cortex {
namespace {

constexpr std::size_t kMiB = std::size_t{1} << 20;

// Sets the cache's limit for one test and empties the cache before and after.
class HostCache : public ::testing::Test {
 protected:
  void SetUp() override {
#if defined(__SANITIZE_ADDRESS__)
    GTEST_SKIP() << "AddressSanitizer builds take every host block from malloc, uncached";
#endif
    old_limit_ = host_cache_limit(64 * kMiB);
    host_empty_cache();
  }
  void TearDown() override {
    host_empty_cache();
    host_cache_limit(old_limit_);
  }
  std::size_t old_limit_ = 0;
};

// f32 elements filling `mib` MiB.
std::int64_t floats(double mib) { return static_cast<std::int64_t>(mib * static_cast<double>(kMiB) / 4); }

TEST_F(HostCache, ALargeBlockIsHandedToTheNextRequestOfItsSize) {
  const void* first = nullptr;
  {
    Tensor a = Tensor::empty({floats(5)});
    first = a.data<float>();
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(first) % (2 * kMiB), 0u);  // on a huge page
    EXPECT_EQ(host_cache_stats().cached_blocks, 0u);
  }
  const HostCacheStats freed = host_cache_stats();
  EXPECT_EQ(freed.cached_blocks, 1u);
  EXPECT_EQ(freed.cached_bytes, 6 * kMiB);  // whole 2 MiB pages
  Tensor b = Tensor::empty({floats(5.5)});  // 5.5 MiB: the same 6 MiB block
  EXPECT_EQ(b.data<float>(), first);
  const HostCacheStats reused = host_cache_stats();
  EXPECT_EQ(reused.hits, freed.hits + 1);
  EXPECT_EQ(reused.cached_blocks, 0u);
  EXPECT_EQ(reused.cached_bytes, 0u);
}

TEST_F(HostCache, BlocksUnder4MiBAreNotRoundedToHugePages) {
  { Tensor a = Tensor::empty({floats(1.5)}); }
  EXPECT_EQ(host_cache_stats().cached_bytes, kMiB * 3 / 2);  // 64 KiB steps
  const std::uint64_t misses = host_cache_stats().misses;
  Tensor b = Tensor::empty({floats(2)});  // maps 2 MiB: a block of its own
  EXPECT_EQ(host_cache_stats().misses, misses + 1);
}

TEST_F(HostCache, OtherSizesAndSmallBlocksDoNotTakeACachedBlock) {
  { Tensor a = Tensor::empty({floats(5)}); }
  const HostCacheStats before = host_cache_stats();
  Tensor bigger = Tensor::empty({floats(7)});  // 8 MiB: a block of its own
  Tensor small = Tensor::empty({1000});        // malloc's
  const HostCacheStats after = host_cache_stats();
  EXPECT_EQ(after.misses, before.misses + 1);
  EXPECT_EQ(after.hits, before.hits);
  EXPECT_EQ(after.cached_bytes, 6 * kMiB);
}

TEST_F(HostCache, AReusedBlockHoldsWhatTheNewTensorPutsInIt) {
  { Tensor a = full({floats(2)}, 7.0); }
  const std::uint64_t hits = host_cache_stats().hits;
  Tensor z = zeros({floats(2)});
  Tensor o = ones({floats(2)});  // the block z did not take
  EXPECT_EQ(host_cache_stats().hits, hits + 1);
  EXPECT_EQ(sum(z).item<float>(), 0.0f);
  EXPECT_EQ(sum(o).item<float>(), static_cast<float>(floats(2)));
}

TEST_F(HostCache, StaysWithinItsLimit) {
  host_cache_limit(10 * kMiB);
  {
    Tensor a = Tensor::empty({floats(4)}), b = Tensor::empty({floats(4)}), c = Tensor::empty({floats(4)});
  }
  EXPECT_EQ(host_cache_stats().cached_bytes, 8 * kMiB);  // two of the three 4 MiB blocks
  { Tensor big = Tensor::empty({floats(6)}); }          // 6 MiB: over half the limit, never kept
  EXPECT_EQ(host_cache_stats().cached_bytes, 8 * kMiB);
  host_cache_limit(4 * kMiB);
  EXPECT_EQ(host_cache_stats().cached_bytes, 4 * kMiB);
  host_empty_cache();
  EXPECT_EQ(host_cache_stats().cached_bytes, 0u);
  EXPECT_EQ(host_cache_stats().cached_blocks, 0u);
}

// The default limit keeps a block of 141 MiB (the lecture CNN's second
// convolution output at batch 1,000), and setting a limit hands back the old one.
TEST_F(HostCache, TheDefaultLimitKeepsABatchOfLargeActivations) {
  host_cache_limit(old_limit_);
  EXPECT_EQ(host_cache_limit(old_limit_), old_limit_);
  { Tensor a = Tensor::empty({floats(141)}); }  // never touched: no pages behind it
  EXPECT_EQ(host_cache_stats().cached_blocks, 1u);
  const std::uint64_t hits = host_cache_stats().hits;
  Tensor b = Tensor::empty({floats(141)});
  EXPECT_EQ(host_cache_stats().hits, hits + 1);
  EXPECT_EQ(host_cache_stats().cached_blocks, 0u);
}

TEST_F(HostCache, OffWithALimitOfZero) {
  host_cache_limit(0);
  { Tensor a = Tensor::empty({floats(5)}); }
  EXPECT_EQ(host_cache_stats().cached_blocks, 0u);
  const std::uint64_t hits = host_cache_stats().hits;
  Tensor b = Tensor::empty({floats(5)});
  EXPECT_EQ(host_cache_stats().hits, hits);
}

}  // namespace
}  // namespace cortex
