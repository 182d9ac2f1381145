// Module::to: parameters and buffers move in place, lazily built layers build on
// the module's device, a missing GPU is a clear DeviceError. Where a GPU is
// present the tests move to it; elsewhere they check the same on the CPU.
#include <gtest/gtest.h>

#include "cortex/nn/nn.h"
#include "support/check.h"

namespace cortex::nn {
namespace {

// The device under test: the GPU when there is one.
Device target() { return backend::cuda_available() ? Device::cuda() : Device::cpu(); }

// Dense and BatchNormalization: parameters and buffers, all built lazily.
Sequential small_net(std::uint64_t seed) {
  Sequential net({Input({4}), Dense({.units = 8, .activation = "relu"}), BatchNormalization(), Dense({.units = 3})});
  net.set_generator(std::make_shared<Generator>(seed));
  return net;
}

TEST(ModuleTo, KeepsNamesValuesRequiresGradAndIdentity) {
  Sequential net = small_net(1);
  net.build({1, 4});
  NamedTensors before = net.state_dict();
  std::vector<std::vector<float>> values;
  for (auto& [n, t] : before) values.push_back(t.to_vector<float>());
  std::size_t num_params = net.parameters().size();

  Module& same = net.to(target());
  EXPECT_EQ(&same, &net);
  EXPECT_EQ(net.device(), target());
  NamedTensors after = net.state_dict();
  ASSERT_EQ(after.size(), before.size());
  for (std::size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].first, before[i].first);
    EXPECT_TRUE(after[i].second.is_same(before[i].second)) << after[i].first << " is no longer the same tensor";
    EXPECT_EQ(after[i].second.device(), target()) << after[i].first;
    EXPECT_EQ(after[i].second.requires_grad(), i < num_params) << after[i].first;
    EXPECT_EQ(after[i].second.to_vector<float>(), values[i]) << after[i].first;
  }
  for (const auto& l : net.layers()) EXPECT_EQ(l->device(), target()) << l->name();

  net.to(Device::cpu());
  for (std::size_t i = 0; i < after.size(); ++i) {
    EXPECT_TRUE(before[i].second.device().is_cpu()) << before[i].first;
    EXPECT_EQ(before[i].second.to_vector<float>(), values[i]) << before[i].first;
  }
}

TEST(ModuleTo, LayersBuiltLaterCreateTheCpuWeightsOnTheModuleDevice) {
  Sequential on_cpu = small_net(3), moved = small_net(3);
  moved.to(target());  // before the lazy build
  moved.add(Dense({.units = 2}));  // and a layer added afterwards
  on_cpu.add(Dense({.units = 2}));
  Generator g(4);
  Tensor x = randn({5, 4}, g);
  on_cpu.eval();
  moved.eval();
  Tensor expected = on_cpu(x);
  Tensor y = moved(x.to(target()));
  EXPECT_EQ(y.device(), target());
  EXPECT_ALL_CLOSE(y.to(Device::cpu()), expected, 1e-5, 1e-6);
  NamedTensors a = on_cpu.state_dict(), b = moved.state_dict();
  ASSERT_EQ(a.size(), b.size());
  ASSERT_EQ(b.size(), 10u);  // 3 kernels, 3 biases, gamma, beta, then the 2 moving statistics
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(b[i].second.device(), target()) << b[i].first;
    EXPECT_EQ(b[i].second.to_vector<float>(), a[i].second.to_vector<float>()) << b[i].first << " differs from the CPU draw";
  }
  EXPECT_TRUE(b[0].second.requires_grad());
}

TEST(ModuleTo, CudaWithoutADeviceThrowsDeviceError) {
  if (backend::cuda_available()) GTEST_SKIP() << "a CUDA device is present";
  Sequential built = small_net(0), lazy = small_net(0);
  built.build({1, 4});
  for (auto [net, device] : {std::pair{&built, Device::cuda()}, std::pair{&lazy, Device::cuda(1)}}) {
    try {
      net->to(device);
      FAIL() << "moving to a missing GPU must throw";
    } catch (const DeviceError& e) {
      EXPECT_NE(std::string(e.what()).find(device.str()), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("Sequential"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(net->device().is_cpu());  // still usable where it was
    EXPECT_EQ((*net)(zeros({2, 4})).shape(), (Shape{2, 3}));
  }
}

TEST(ModuleTo, GradientsMoveWithTheirParameters) {
  Sequential net = small_net(5);
  Generator g(6);
  sum(net(randn({3, 4}, g))).backward();
  Tensor kernel = net.parameters()[0];
  std::vector<float> grad = kernel.grad().to_vector<float>();
  net.to(target());
  ASSERT_TRUE(kernel.grad().defined());
  EXPECT_EQ(kernel.grad().device(), target());
  EXPECT_EQ(kernel.grad().to_vector<float>(), grad);
}

TEST(ModuleHooks, SeeEachForwardUntilRemovedAndFindNamesTheLayers) {
  Sequential net = small_net(1);
  net.build({1, 4});  // building runs a probe forward, which hooks would see too
  Module& dense = net.find("dense");
  std::vector<Shape> seen;
  Tensor last;
  const int id = dense.add_forward_hook([&](const Module& m, const Tensor& in, const Tensor& out) {
    EXPECT_EQ(&m, &dense);
    seen.push_back(in.shape());
    last = out.detach();
  });
  Generator g(2);
  Tensor x = randn({5, 4}, g);
  NoGradGuard no_grad;
  net.eval();
  net(x);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], (Shape{5, 4}));
  EXPECT_ALL_CLOSE(last, dense(x), 0, 0);  // the hook saw the layer's own output
  dense.remove_forward_hook(id);
  net(x);
  net(x);
  EXPECT_EQ(seen.size(), 2u);  // the direct call above, nothing after removal

  EXPECT_EQ(&net.find("dense_1"), net.layers()[2].get());
  try {
    net.find("conv2d");
    FAIL() << "no error";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("no layer named 'conv2d'; the layers are: "), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("dense, batch_normalization, dense_1"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace cortex::nn
