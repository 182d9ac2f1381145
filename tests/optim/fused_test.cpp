// The fused optimiser update (one kernel per parameter, or per step's group) against the update
// composed of tensor ops (fused updates switched off): the same steps must
// agree on the cpu backend, on ref, and on a GPU with the CUDA kernel.
#include "cortex/optim/optim.h"
#include "support/check.h"

namespace cortex::optim {
namespace {

std::vector<std::unique_ptr<Optimizer>> fused_kinds() {
  std::vector<std::unique_ptr<Optimizer>> all;
  all.push_back(std::make_unique<SGD>(SGDOptions{.learning_rate = 0.1}));
  all.push_back(std::make_unique<SGD>(SGDOptions{.learning_rate = 0.1, .momentum = 0.9}));
  all.push_back(std::make_unique<SGD>(SGDOptions{.learning_rate = 0.1, .momentum = 0.9, .nesterov = true}));
  all.push_back(std::make_unique<Adadelta>());
  all.push_back(std::make_unique<Adam>(AdamOptions{.learning_rate = 0.01}));
  all.push_back(std::make_unique<Adam>(AdamOptions{.learning_rate = 0.01, .amsgrad = true}));
  all.push_back(std::make_unique<AdamW>(AdamWOptions{.learning_rate = 0.01}));
  return all;
}

// Four steps of `config` from fixed parameters and gradients on `device`
// (under `backend` for CPU tensors); the parameters after them, on the host.
std::vector<Tensor> run(const std::string& config, backend::Backend backend, Device device, bool fused = true,
                        const std::vector<Shape>& shapes = {{5, 7}, {7}, {2, 3, 4}}) {
  backend::BackendScope scope(backend);
  set_fused_updates(fused);
  Generator gen(3);
  std::vector<Tensor> params;
  for (const Shape& s : shapes) {
    Tensor p = randn(s, gen).to(device);
    p.set_requires_grad(true);
    params.push_back(p);
  }
  auto opt = optimizer_from_config(config);
  opt->set_params(params);
  for (int step = 0; step < 4; ++step) {
    for (auto& p : params) p.set_grad((randn(p.shape(), gen) * 2.0).to(device));
    opt->step();
  }
  set_fused_updates(true);
  std::vector<Tensor> out;
  for (const auto& p : params) out.push_back(p.detach().to(Device::cpu()));
  return out;
}

TEST(FusedOptimizer, CpuAndReferenceKernelsMatchComposedUpdate) {
  for (const auto& o : fused_kinds()) {
    const std::string config = o->config_json();
    SCOPED_TRACE(config);
    const auto composed = run(config, backend::Backend::Cpu, Device::cpu(), false);
    for (auto b : {backend::Backend::Cpu, backend::Backend::Ref}) {
      const auto fused = run(config, b, Device::cpu());
      for (std::size_t i = 0; i < composed.size(); ++i) EXPECT_ALL_CLOSE(fused[i], composed[i], 1e-5, 1e-6);
    }
  }
}

TEST(FusedOptimizer, SwitchingFusionOffReallyComposes) {
  // On ref the two paths round differently (the fused step keeps each element
  // in double; the composed one rounds after every op); equal results would
  // mean one path ran twice. (The cpu backend's f32 step can match its composed
  // update to the last bit.)
  const std::string config = Adadelta().config_json();
  const auto composed = run(config, backend::Backend::Ref, Device::cpu(), false);
  const auto fused = run(config, backend::Backend::Ref, Device::cpu(), true);
  double differ = 0;
  for (std::size_t i = 0; i < composed.size(); ++i)
    differ += sum(abs(fused[i].to(DType::f64) - composed[i].to(DType::f64))).item();
  EXPECT_GT(differ, 0.0);
}

TEST(FusedOptimizer, CudaKernelMatchesComposedUpdate) {
  if (!backend::cuda_available()) GTEST_SKIP() << "no CUDA device";
  for (const auto& o : fused_kinds()) {
    const std::string config = o->config_json();
    SCOPED_TRACE(config);
    const auto composed = run(config, backend::Backend::Cpu, Device::cpu(), false);
    const auto fused = run(config, backend::Backend::Cpu, Device::cuda());
    for (std::size_t i = 0; i < composed.size(); ++i) EXPECT_ALL_CLOSE(fused[i], composed[i], 1e-5, 1e-6);
  }
}

// On CUDA a step's parameters go to one group kernel: 30 tensors (more than
// one launch holds), some spanning several blocks, one empty.
TEST(FusedOptimizer, CudaGroupKernelCoversEveryParameter) {
  if (!backend::cuda_available()) GTEST_SKIP() << "no CUDA device";
  std::vector<Shape> shapes;
  for (int i = 0; i < 30; ++i) shapes.push_back(i % 7 == 3 ? Shape{3, 1700 + i} : Shape{i + 1});
  shapes[11] = Shape{0};
  for (const auto& o : fused_kinds()) {
    const std::string config = o->config_json();
    SCOPED_TRACE(config);
    const auto composed = run(config, backend::Backend::Cpu, Device::cpu(), false, shapes);
    const auto fused = run(config, backend::Backend::Cpu, Device::cuda(), true, shapes);
    ASSERT_EQ(fused.size(), composed.size());
    for (std::size_t i = 0; i < composed.size(); ++i) EXPECT_ALL_CLOSE(fused[i], composed[i], 1e-5, 1e-6) << i;
  }
}

}  // namespace
}  // namespace cortex::optim
