// Dropout masks come from the bernoulli kernel of the tensor's backend, drawn
// in chunks on several threads; they must be exactly the host's Philox draw
// (cortex::bernoulli), element for element, at sizes that end mid-block,
// mid-chunk and past the threading threshold, on the cpu and the ref backend.
#include <gtest/gtest.h>

#include "support/check.h"

namespace cortex {
namespace {

TEST(Dropout, MasksAreTheHostBernoulliDrawScaled) {
  for (backend::Backend b : {backend::Backend::Cpu, backend::Backend::Ref}) {
    backend::BackendScope scope(b);
    // The last case starts 3 blocks before the counter's low word wraps, so
    // the blocks after it carry into the high word.
    for (auto [n, skip] : {std::pair<std::int64_t, std::uint64_t>{1, 5}, {7, 5}, {1031, 5}, {70001, 5}, {333, 0xFFFFFFFDull}}) {
      SCOPED_TRACE("n = " + std::to_string(n) + " on " + backend::backend_name(b));
      Generator a(123), c(123);
      a.reserve(skip);  // a generator part-way through its stream
      c.reserve(skip);
      const double rate = 0.3;
      Tensor got = dropout(ones({n}), rate, true, a);
      Tensor want = bernoulli({n}, 1.0 - rate, c) * (1.0 / (1.0 - rate));
      EXPECT_EQ(got.to_vector<float>(), want.to_vector<float>());
      EXPECT_EQ(a.offset(), c.offset()) << "both draws reserve the same blocks";
    }
  }
}

TEST(Dropout, KeepsAboutTheRequestedShareAndScalesTheRest) {
  Generator g(9);
  Tensor y = dropout(ones({100000}), 0.25, true, g);
  const std::vector<float> v = y.to_vector<float>();
  std::int64_t kept = 0;
  for (float e : v) {
    ASSERT_TRUE(e == 0.0f || e == static_cast<float>(1.0 / 0.75)) << e;
    kept += e != 0.0f;
  }
  EXPECT_NEAR(static_cast<double>(kept) / 100000.0, 0.75, 0.005);
}

}  // namespace
}  // namespace cortex
