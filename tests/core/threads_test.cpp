// adapt_openmp_wait: what it chooses, and that a choice made by the user stays.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <thread>
#include <vector>

#include "cortex/core/threads.h"

namespace cortex {
namespace {

// Leaves the variables as they were before the test.
class OpenmpWait : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : {"CORTEX_OMP_WAIT", "GOMP_SPINCOUNT", "OMP_WAIT_POLICY"}) unsetenv(v);
  }
  void TearDown() override { SetUp(); }
};

TEST_F(OpenmpWait, KeepsWhatTheUserSet) {
  setenv("GOMP_SPINCOUNT", "42", 1);
  EXPECT_EQ(adapt_openmp_wait(nullptr), "as set in the environment");
  EXPECT_STREQ(std::getenv("GOMP_SPINCOUNT"), "42");
  EXPECT_STREQ(std::getenv("CORTEX_OMP_WAIT"), "as set in the environment");
  // Once chosen (before a restart), the choice is read back, not made again.
  setenv("CORTEX_OMP_WAIT", "chosen earlier", 1);
  unsetenv("GOMP_SPINCOUNT");
  EXPECT_EQ(adapt_openmp_wait(nullptr), "chosen earlier");
}

TEST_F(OpenmpWait, BusyNeighboursAskForAShortSpin) {
  // Two spinning threads are two more runnable tasks in /proc/stat.
  std::atomic<bool> stop{false};
  std::vector<std::thread> busy;
  for (int i = 0; i < 2; ++i)
    busy.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
      }
    });
  // Without argv there is no restart: the short spin cannot take effect, and the record says so.
  const std::string chosen = adapt_openmp_wait(nullptr);
  stop = true;
  for (auto& t : busy) t.join();
  EXPECT_EQ(chosen, "libgomp's default spin (the restart for a short spin failed)");
  EXPECT_EQ(std::getenv("GOMP_SPINCOUNT"), nullptr);
}

}  // namespace
}  // namespace cortex
