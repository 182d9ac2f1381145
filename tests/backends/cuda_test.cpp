// The CUDA backend beyond the parity table: transfers, dropout masks, errors,
// TF32 convolutions and the allocator. Skips without a GPU; on a machine
// without one it checks that CUDA tensors fail with a clear error.
#include <gtest/gtest.h>

#include <cmath>

#include "support/check.h"

namespace cortex {
namespace {

#define REQUIRE_CUDA() \
  if (!backend::cuda_available()) GTEST_SKIP() << "no CUDA device"

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
  REQUIRE_CUDA();
  Tensor host = arange(10).reshape({2, 5});
  Tensor dev = host.to(Device::cuda());
  EXPECT_EQ(dev.device(), Device::cuda());
  EXPECT_EQ(dev.to(Device::cpu()).to_vector<float>(), host.to_vector<float>());
  Tensor f = full({3, 3}, 2.5, DType::f64, Device::cuda());
  EXPECT_EQ(f.to(Device::cpu()).to_vector<double>(), std::vector<double>(9, 2.5));
}

TEST(Cuda, StridedAndConvertingCopiesMatchTheHost) {
  REQUIRE_CUDA();
  Generator g(5);
  Tensor x = randn({7, 9, 4}, g) * 100.0;
  Tensor view = x.permute({2, 0, 1}).slice(1, 1, 7, 2);  // strided on the host
  EXPECT_EQ(view.to(Device::cuda()).to(Device::cpu()).to_vector<float>(), view.contiguous().to_vector<float>());
  Tensor dev = x.to(Device::cuda());
  for (DType d : {DType::bf16, DType::f64, DType::i32, DType::i64, DType::u8, DType::boolean}) {
    SCOPED_TRACE(dtype_name(d));
    Tensor on_gpu = dev.permute({1, 2, 0}).to(d).to(Device::cpu());   // converted on the device
    Tensor on_cpu = x.permute({1, 2, 0}).to(d);                       // converted on the host
    EXPECT_EQ(on_gpu.to(DType::f64).to_vector<double>(), on_cpu.to(DType::f64).to_vector<double>());
  }
  // A device tensor written through a strided view from the host.
  Tensor target = zeros({4, 6}, DType::f32, Device::cuda());
  Tensor cols = target.slice(1, 0, 6, 2);
  cols.copy_(ones({4, 3}));
  EXPECT_EQ(target.to(Device::cpu()).sum().item(), 12.0);
}

TEST(Cuda, DropoutMasksAreTheHostsMasks) {
  REQUIRE_CUDA();
  Tensor x = ones({64, 257});
  Generator a(11), b(11);
  Tensor on_cpu = dropout(x, 0.3, true, a);
  Tensor on_gpu = dropout(x.to(Device::cuda()), 0.3, true, b).to(Device::cpu());
  EXPECT_EQ(on_gpu.to_vector<float>(), on_cpu.to_vector<float>());
  EXPECT_EQ(a.offset(), b.offset());
  const double kept = (on_cpu > zeros_like(on_cpu)).to(DType::f64).mean().item();
  EXPECT_NEAR(kept, 0.7, 0.02);
}

TEST(Cuda, BadInputsAreClearErrors) {
  REQUIRE_CUDA();
  Tensor x = ones({4, 3}, DType::f32, Device::cuda());
  EXPECT_THROW(x + ones({4, 3}), DeviceError);  // a host operand
  try {
    index_select(x, 0, from_vector<std::int64_t>({0, 7}).to(Device::cuda()));
    FAIL() << "an index past the end must throw";
  } catch (const IndexError& e) {
    EXPECT_NE(std::string(e.what()).find("7"), std::string::npos) << e.what();
  }
  try {
    Tensor::empty({std::int64_t{1} << 50}, DType::f32, Device::cuda());
    FAIL() << "4 PiB cannot be allocated";
  } catch (const DeviceError& e) {
    EXPECT_NE(std::string(e.what()).find("4503599627370496 bytes"), std::string::npos) << e.what();
  }
  // The device still works after the failures.
  EXPECT_EQ((x * 2.0).sum().item(), 24.0);
}

TEST(Cuda, Tf32ConvolutionsStayWithinTf32Rounding) {
  REQUIRE_CUDA();
  Generator g(9);
  Tensor x = randn({8, 20, 20, 32}, g), w = randn({3, 3, 32, 64}, g) * 0.1;
  Tensor ref;
  {
    backend::BackendScope scope(backend::Backend::Ref);
    ref = conv2d(x, w);
  }
  ASSERT_TRUE(backend::cuda_math().conv_tf32);  // PyTorch's default
  Tensor tf32 = conv2d(x.to(Device::cuda()), w.to(Device::cuda())).to(Device::cpu());
  // TF32 keeps 10 mantissa bits: errors near 1e-3 of the output's scale, never 1e-1.
  const double scale = max(abs(ref)).item();
  EXPECT_ALL_CLOSE(tf32, ref, 0.0, 5e-3 * scale);
}

// ||a - b|| / ||b||, on the host in f64.
double relative_error(const Tensor& a, const Tensor& b) {
  Tensor x = a.to(Device::cpu()).to(DType::f64), y = b.to(Device::cpu()).to(DType::f64);
  return std::sqrt(sum(square(x - y)).item() / sum(square(y)).item());
}

// Under autocast, matmul, linear and the convolutions run in bf16 and hand
// back bf16 (PyTorch's policy); outputs and gradients stay within bf16 rounding
// of the f32 reference (||err|| / ||ref|| under 1e-2) and differ from it (they
// did run in bf16); the f32 leaves get f32 gradients through the casts.
TEST(Cuda, Bf16AutocastStaysWithinBf16Rounding) {
  REQUIRE_CUDA();
  using V = const std::vector<Tensor>&;
  const std::vector<testing::ParityCase> cases = {
      {"matmul", {{64, 96}, {96, 80}}, [](V x) { return matmul(x[0], x[1]); }},
      {"linear", {{33, 19}, {19, 11}, {11}}, [](V x) { return linear(x[0], x[1], x[2]); }},
      {"conv2d_bias", {{2, 12, 12, 32}, {3, 3, 32, 64}, {64}}, [](V x) { return conv2d(x[0], x[1], x[2]); }},
      {"conv2d_same_stride2", {{2, 9, 7, 8}, {3, 3, 8, 16}}, [](V x) {
         return conv2d(x[0], x[1], {}, {.strides = {2, 2}, .padding = "same"});
       }},
      {"conv_transpose2d", {{2, 5, 5, 8}, {3, 3, 16, 8}, {16}}, [](V x) {
         return conv_transpose2d(x[0], x[1], x[2], {.strides = {2, 2}, .padding = "same"});
       }},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Generator g(4);
    std::vector<Tensor> base;
    for (const auto& s : c.shapes) base.push_back(uniform(s, -2.0, 2.0, g));
    auto run = [&](Device on, bool autocast) {
      backend::BackendScope scope(backend::Backend::Ref);  // the f32 reference on the host
      std::vector<Tensor> in;
      for (const auto& t : base) in.push_back(t.clone().to(on).set_requires_grad(true));
      Tensor y;
      {
        AutocastScope cast(autocast);
        y = c.fn(in);
      }
      EXPECT_EQ(y.dtype(), autocast ? DType::bf16 : DType::f32);
      Generator rg(7);
      sum(y * randn(y.shape(), rg).to(on)).backward();
      std::vector<Tensor> out{y.detach()};
      for (const auto& t : in) {
        EXPECT_EQ(t.grad().dtype(), DType::f32);
        out.push_back(t.grad());
      }
      return out;
    };
    const auto ref = run(Device::cpu(), false);
    const auto bf16 = run(Device::cuda(), true);
    for (std::size_t i = 0; i < ref.size(); ++i) {
      const double err = relative_error(bf16[i], ref[i]);
      EXPECT_LT(err, 1e-2) << (i == 0 ? "output" : "gradient " + std::to_string(i - 1));
      if (i == 0) {
        EXPECT_GT(err, 1e-5) << "autocast left the op in f32";
      }
    }
  }
}

// A convolution whose channels are not multiples of 8 (a first layer on 1 or
// 3 input channels) stays f32 under autocast: exactly the f32 result, f32
// gradients, and a bf16 input is taken in f32.
TEST(Cuda, AutocastKeepsNarrowConvolutionsInF32) {
  REQUIRE_CUDA();
  Generator g(6);
  Tensor x = uniform({4, 12, 12, 1}, -1.0, 1.0, g).to(Device::cuda());
  Tensor w = uniform({3, 3, 1, 32}, -1.0, 1.0, g).to(Device::cuda()).set_requires_grad(true);
  Tensor plain = conv2d(x, w, {}, {.relu = true});
  Tensor cast;
  {
    AutocastScope on;
    cast = conv2d(x, w, {}, {.relu = true});
    EXPECT_EQ(conv2d(x.to(DType::bf16), w).dtype(), DType::f32);
  }
  EXPECT_EQ(cast.dtype(), DType::f32);
  EXPECT_EQ(cast.to(Device::cpu()).to_vector<float>(), plain.to(Device::cpu()).to_vector<float>());
  sum(cast).backward();
  EXPECT_EQ(w.grad().dtype(), DType::f32);
}

// The ops between autocast's products keep bf16 on CUDA: each output and
// each gradient is bf16, within bf16 rounding of the f32 reference run on the
// same (bf16-representable) inputs.
TEST(Cuda, Bf16ActivationsStayBf16) {
  REQUIRE_CUDA();
  using V = const std::vector<Tensor>&;
  const std::vector<testing::ParityCase> cases = {
      {"relu", {{4, 6, 6, 8}}, [](V x) { return relu(x[0]); }},
      {"sigmoid_tanh", {{5, 7}}, [](V x) { return sigmoid(x[0]) + tanh(x[0]); }},
      {"mul_broadcast", {{6, 5}, {5}}, [](V x) { return x[0] * x[1] - x[1]; }},
      {"max_pool_2x2", {{2, 8, 8, 16}}, [](V x) { return max_pool2d(x[0]); }},
      {"max_pool_3x3_overlapping", {{2, 7, 7, 3}}, [](V x) {
         return max_pool2d(x[0], {.pool_size = {3, 3}, .strides = {1, 1}, .padding = "same"});
       }},
      {"avg_pool", {{2, 6, 6, 4}}, [](V x) { return avg_pool2d(x[0]); }},
      {"sum_mean_max", {{9, 33}}, [](V x) { return sum(x[0], {0}) + mean(x[0], {0}) + max(x[0], {0}); }},
      {"reshape", {{3, 4, 5}}, [](V x) { return relu(x[0].reshape({12, 5})); }},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Generator g(8);
    std::vector<Tensor> base;  // bf16-representable, so both runs start from the same numbers
    for (const auto& s : c.shapes) base.push_back(uniform(s, -2.0, 2.0, g).to(DType::bf16).to(DType::f32));
    auto run = [&](Device on, DType dtype) {
      backend::BackendScope scope(backend::Backend::Ref);
      std::vector<Tensor> in;
      for (const auto& t : base) in.push_back(t.clone().to(dtype).to(on).set_requires_grad(true));
      Tensor y = c.fn(in);
      EXPECT_EQ(y.dtype(), dtype);
      Generator rg(3);
      Tensor w = randn(y.shape(), rg).to(dtype).to(on);
      sum((y * w).to(DType::f32)).backward();
      std::vector<Tensor> out{y.detach()};
      for (const auto& t : in) {
        EXPECT_EQ(t.grad().dtype(), dtype);
        out.push_back(t.grad());
      }
      return out;
    };
    const auto ref = run(Device::cpu(), DType::f32);
    const auto bf16 = run(Device::cuda(), DType::bf16);
    for (std::size_t i = 0; i < ref.size(); ++i)
      EXPECT_LT(relative_error(bf16[i], ref[i]), 1e-2) << (i == 0 ? "output" : "gradient " + std::to_string(i - 1));
  }
  // Dropout draws the host's mask in bf16: 0 or 1 / keep rounded to bf16.
  Tensor x = ones({64, 257});
  Generator a(11), b(11);
  Tensor on_cpu = dropout(x, 0.3, true, a).to(DType::bf16);
  Tensor on_gpu = dropout(x.to(DType::bf16).to(Device::cuda()), 0.3, true, b);
  EXPECT_EQ(on_gpu.dtype(), DType::bf16);
  EXPECT_EQ(on_gpu.to(Device::cpu()).to(DType::f32).to_vector<float>(), on_cpu.to(DType::f32).to_vector<float>());
}

}  // namespace
}  // namespace cortex
