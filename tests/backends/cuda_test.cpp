// The CUDA backend's first cells (allocator, copy, fill). Skips without a GPU;
// on a CPU-only build it checks that CUDA tensors fail with a clear error.
#include <gtest/gtest.h>

#include "support/check.h"

namespace cortex {
namespace {

TEST(Cuda, WithoutADeviceCudaTensorsRaiseDeviceError) {
  if (backend::cuda_available()) GTEST_SKIP() << "a CUDA device is present; see the tests below";
  try {
    zeros({2}, DType::f32, Device::cuda());
    FAIL() << "allocating on a missing GPU must throw";
  } catch (const DeviceError& e) {
    EXPECT_NE(std::string(e.what()).find("cuda:0"), std::string::npos) << e.what();
  }
}

TEST(Cuda, CopiesRoundTripAndFillWorks) {
  if (!backend::cuda_available()) GTEST_SKIP() << "no CUDA device";
  Tensor host = arange(10).reshape({2, 5});
  Tensor dev = host.to(Device::cuda());
  EXPECT_EQ(dev.device(), Device::cuda());
  EXPECT_EQ(dev.to(Device::cpu()).to_vector<float>(), host.to_vector<float>());
  Tensor f = full({3, 3}, 2.5, DType::f64, Device::cuda());
  EXPECT_EQ(f.to(Device::cpu()).to_vector<double>(), std::vector<double>(9, 2.5));
}

TEST(Cuda, OpsWithoutACudaKernelSayWhichOp) {
  if (!backend::cuda_available()) GTEST_SKIP() << "no CUDA device";
  Tensor a = ones({4}, DType::f32, Device::cuda());
  try {
    relu(a);
    FAIL() << "relu has no CUDA kernel yet and must say so";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("relu"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("cuda"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace cortex
