// The tape and the engine: accumulation, reuse, retain_graph, no-grad, depth.
#include <gtest/gtest.h>

#include <cmath>

#include "support/check.h"
#include "support/fake_device.h"

namespace cortex {
namespace {

TEST(Autograd, ChainRuleThroughSeveralOps) {
  Tensor x = tensor({1, 2, 3}).set_requires_grad(true);
  Tensor y = sum(x * x * 3.0 + x);  // dy/dx = 6x + 1
  y.backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{7, 13, 19}));
  EXPECT_TRUE(x.is_leaf());
  EXPECT_FALSE(y.is_leaf());
  EXPECT_EQ(y.grad_fn()->name(), "sum");
}

TEST(Autograd, InputUsedSeveralTimesSumsItsGradients) {
  Tensor x = tensor({2}).set_requires_grad(true);
  Tensor a = x * 3.0, b = exp(x), c = x;
  (a + b * c).sum().backward();  // d/dx (3x + x e^x) = 3 + e^x (1 + x)
  EXPECT_NEAR(x.grad().item(), 3 + std::exp(2.0) * 3, 1e-4);
}

TEST(Autograd, GradientsAccumulateUntilZeroed) {
  Tensor x = tensor({1, -1}).set_requires_grad(true);
  Tensor kept;
  for (int i = 0; i < 3; ++i) {
    (x * 2.0).sum().backward();
    if (i == 0) kept = x.grad();
  }
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{6, 6}));
  EXPECT_EQ(kept.to_vector<float>(), (std::vector<float>{2, 2}));  // an old .grad() never changes
  x.zero_grad();
  EXPECT_FALSE(x.grad().defined());
}

TEST(Autograd, RetainGraphAllowsASecondBackward) {
  Tensor x = tensor({3}).set_requires_grad(true);
  Tensor y = (x * x).sum();
  y.backward(Tensor(), true);
  y.backward();
  EXPECT_EQ(x.grad().item(), 12.0);
  try {
    y.backward();
    FAIL() << "a third backward through a freed graph must throw";
  } catch (const AutogradError& e) {
    EXPECT_NE(std::string(e.what()).find("retain_graph"), std::string::npos) << e.what();
  }
}

TEST(Autograd, NoGradGuardAndDetachStopHistory) {
  Tensor x = tensor({1, 2}).set_requires_grad(true);
  {
    NoGradGuard guard;
    Tensor y = x * 2.0;
    EXPECT_FALSE(y.requires_grad());
    EXPECT_TRUE(GradMode::is_enabled() == false);
  }
  EXPECT_TRUE(GradMode::is_enabled());
  Tensor d = (x * 2.0).detach();
  EXPECT_FALSE(d.requires_grad());
  Tensor z = (x * d).sum();  // d is a constant here
  z.backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{2, 4}));
}

TEST(Autograd, NonScalarBackwardNeedsAGradient) {
  Tensor x = tensor({1, 2}).set_requires_grad(true);
  Tensor y = x * 3.0;
  EXPECT_THROW(y.backward(), AutogradError);
  y.backward(tensor({1, 10}));
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{3, 30}));
  EXPECT_THROW(y.backward(tensor({1, 2, 3})), AutogradError);  // wrong gradient shape
  EXPECT_THROW(tensor({1}).backward(), AutogradError);         // nothing requires grad
}

TEST(Autograd, DeepChainsDoNotRecurse) {
  // 100k nodes: a recursive engine would overflow the stack (an unrolled RNN is like this).
  Tensor x = scalar(1.0).set_requires_grad(true);
  Tensor y = x;
  for (int i = 0; i < 100000; ++i) y = y * 1.0 + 0.0;
  y.backward();
  EXPECT_EQ(x.grad().item(), 1.0);
}

TEST(Autograd, BranchThatNeedsNoGradientIsSkipped) {
  Tensor x = tensor({2}).set_requires_grad(true);
  Tensor w = tensor({5});  // no grad
  (x * w + w * w).sum().backward();
  EXPECT_EQ(x.grad().item(), 5.0);
  EXPECT_FALSE(w.grad().defined());
}

TEST(Autograd, GradientCrossesDtypeConversions) {
  Tensor x = tensor({1, 2}).to(DType::f64).set_requires_grad(true);
  (x.to(DType::f32) * 2.0).sum().backward();
  EXPECT_EQ(x.grad().dtype(), DType::f64);
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{2, 2}));
  EXPECT_FALSE(x.to(DType::i64).requires_grad());  // integers carry no gradient
}

TEST(Autograd, LeavesNeverShareAGradientTensor) {
  Tensor x = tensor({1, 2}).set_requires_grad(true), b = tensor({3, 4}).set_requires_grad(true);
  (x + b).mean().backward();  // add's rule hands the same tensor to both inputs
  EXPECT_FALSE(x.grad().is_same(b.grad()));
  EXPECT_NE(x.grad().storage(), b.grad().storage());
  Tensor given = tensor({5, 6});
  x.zero_grad();
  (x + 0.0).backward(given);
  EXPECT_NE(x.grad().storage(), given.storage());
  given.fill_(-1);
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{5, 6}));
  Tensor leaf = tensor({1}).set_requires_grad(true);
  leaf.backward(tensor({2}));
  EXPECT_FALSE(leaf.grad().requires_grad());
  EXPECT_EQ(leaf.grad().item(), 2.0);
}

TEST(Autograd, NodeReachedWithoutGradientStillReleasesItsInputs) {
  // r uses d and e; d's rule gives nothing back for r, so d runs no backward,
  // but e (below d as well) must still receive r's gradient.
  Tensor x = tensor({0.5f, 1.0f}).set_requires_grad(true);
  Tensor e = exp(x);
  Tensor d = autograd::record("D", e * 2.0, {e}, [](const Tensor& g) -> std::vector<Tensor> { return {g * 2.0}; });
  Tensor r = autograd::record("R", d + e, {d, e}, [](const Tensor& g) -> std::vector<Tensor> { return {Tensor(), g}; });
  r.sum().backward();
  ASSERT_TRUE(x.grad().defined());
  EXPECT_ALL_CLOSE(x.grad(), exp(x.detach()), 1e-6, 0);
}

TEST(Autograd, InPlaceWriteToASavedTensorIsCaught) {
  Tensor x = tensor({1, 2}).set_requires_grad(true);
  Tensor w = tensor({3, 4}).set_requires_grad(true);
  Tensor y = (x * w).sum();
  {
    NoGradGuard guard;
    w.fill_(100);
  }
  try {
    y.backward();
    FAIL() << "mul's gradient needs the old w";
  } catch (const AutogradError& e) {
    EXPECT_NE(std::string(e.what()).find("modified in place"), std::string::npos) << e.what();
  }
}

TEST(Autograd, InPlaceWriteToASavedIndexOrMaskIsCaught) {
  // index_select keeps the caller's own i64 index and where its condition; the
  // gradient read after a write would be silently wrong ({0, 0, 1} and {0, 0}).
  Tensor x = tensor({1, 2, 3}).set_requires_grad(true);
  Tensor idx = from_vector<std::int64_t>({0});
  Tensor y = index_select(x, 0, idx).sum();
  idx.fill_(2);
  EXPECT_THROW(y.backward(), AutogradError);
  Tensor a = tensor({1, 2}).set_requires_grad(true);
  Tensor m = gt(tensor({1, -1}), zeros({2}));
  Tensor z = where(m, a, zeros({2})).sum();
  m.fill_(0);
  EXPECT_THROW(z.backward(), AutogradError);
  // Untouched, both give their gradients.
  Tensor idx2 = from_vector<std::int64_t>({0, 0});
  index_select(x, 0, idx2).sum().backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{2, 0, 0}));
}

TEST(Autograd, AGradientOnAnotherDeviceIsRefused) {
  testing::FakeCudaMemory fake;  // tensors "on cuda:0" that no kernel ever touches
  {
    Tensor x = ones({4}).set_requires_grad(true);
    try {
      relu(x).backward(Tensor::empty({4}, DType::f32, Device::cuda()));
      ADD_FAILURE() << "a cuda gradient for a cpu output must be refused";
    } catch (const AutogradError& e) {
      EXPECT_NE(std::string(e.what()).find("on cuda:0 for an input of shape [4] f32 on cpu"), std::string::npos)
          << e.what();
    }
    // A rule that hands back a gradient on another device is caught before any kernel mixes them.
    Tensor y = autograd::record("stray", relu(x.detach()), {x}, [](const Tensor& g) -> std::vector<Tensor> {
      return {Tensor::empty(g.shape(), g.dtype(), Device::cuda())};
    });
    EXPECT_THROW(y.sum().backward(), AutogradError);
  }
}

TEST(Autograd, LeafRulesAreEnforced) {
  Tensor x = tensor({1}).set_requires_grad(true);
  Tensor y = x * 2.0;
  EXPECT_THROW(y.set_requires_grad(false), AutogradError);
  EXPECT_THROW(x.fill_(0), AutogradError);
  NoGradGuard guard;
  x.fill_(4);  // optimisers update parameters like this
  EXPECT_EQ(x.item(), 4.0);
}

// The pieces of one split may each get a backward of their own (the node saves only shapes).
TEST(Autograd, PiecesOfASplitBackwardSeparately) {
  Tensor w = tensor({1, 2, 3, 4}).set_requires_grad(true);
  std::vector<Tensor> p = chunk(w, 2);
  sum(p[0] * 2.0).backward();
  sum(p[1] * 3.0).backward();
  EXPECT_EQ(w.grad().to_vector<float>(), (std::vector<float>{2, 2, 3, 3}));
}

// A node with several outputs gets one gradient per output, undefined for the
// ones nothing used, and runs once however many of its outputs are used.
TEST(Autograd, MultiOutputNodeGetsOneGradientPerOutput) {
  Tensor x = tensor({1, 2}).set_requires_grad(true);
  int runs = 0;
  std::vector<bool> seen;
  std::vector<Tensor> outs = autograd::record_outputs(
      "triple", {tensor({1, 2}), tensor({10, 20}), tensor({100, 200})}, {x},
      [&](const std::vector<Tensor>& g) -> std::vector<Tensor> {
        ++runs;
        seen.clear();
        Tensor dx = zeros({2});
        for (std::size_t i = 0; i < g.size(); ++i) {
          seen.push_back(g[i].defined());
          if (g[i].defined()) dx = dx + g[i] * static_cast<double>(i + 1);
        }
        return {dx};
      });
  ASSERT_EQ(outs.size(), 3u);
  EXPECT_EQ(outs[2].output_nr(), 2u);
  EXPECT_EQ(outs[0].grad_fn(), outs[2].grad_fn());
  sum(outs[2] * 2.0 + outs[0] * outs[2]).backward();
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(seen, (std::vector<bool>{true, false, true}));
  // d/dout0 = out2 = (100, 200) times 1; d/dout2 = 2 + out0 = (3, 4) times 3.
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{109, 212}));
}

}  // namespace
}  // namespace cortex
