// Model::to: the one word that moves training to a GPU. Batches follow the
// model, files and predictions stay on the host, a run moved half-way goes on
// as it would have. Where a GPU is present the tests move to it; elsewhere
// they check the same on the CPU, and that asking for a GPU fails cleanly.
#include <gtest/gtest.h>

#include <cmath>

#include "support.h"
#include "support/check.h"

namespace cortex::train {
namespace {

using testing::temp_path;
using testing::tiny_data;
using testing::tiny_model;

Device target() { return backend::cuda_available() ? Device::cuda() : Device::cpu(); }

TEST(ModelTo, MovingAfterCompileAndAnEpochContinuesTheRun) {
  auto [x, y] = tiny_data(64);
  FitOptions fit{.batch_size = 16, .epochs = 2, .verbose = 0, .shuffle = false};
  auto whole = tiny_model(7);
  History expected = whole->fit(x, y, fit);

  auto moved = tiny_model(7);
  moved->fit(x, y, {.batch_size = 16, .epochs = 1, .verbose = 0, .shuffle = false});
  Model& same = moved->to(target());
  EXPECT_EQ(&same, moved.get());
  EXPECT_EQ(moved->device(), target());
  for (const Tensor& p : moved->optimizer().params()) EXPECT_EQ(p.device(), target());
  for (auto& [name, t] : moved->optimizer().state())  // the slots, after two scalars made on the host
    if (name != "iterations" && name != "learning_rate") {
      EXPECT_EQ(t.device(), target()) << name;
    }
  EXPECT_EQ(moved->optimizer().iterations(), 4);

  fit.initial_epoch = 1;
  History rest = moved->fit(x, y, fit);
  ASSERT_EQ(rest.history["loss"].size(), 1u);
  EXPECT_NEAR(rest.history["loss"][0], expected.history["loss"][1], 1e-5 * expected.history["loss"][1]);
  EXPECT_NEAR(moved->evaluate(x, y)["loss"], whole->evaluate(x, y)["loss"], 1e-5);
}

TEST(ModelTo, PredictAndSaveHandBackHostTensorsAndLoadingIsOnTheCpu) {
  auto m = tiny_model(2);
  auto [x, y] = tiny_data(48);
  m->to(target());
  m->fit(x, y, {.batch_size = 16, .epochs = 1, .verbose = 0});
  Tensor p = m->predict(x, 20);
  EXPECT_TRUE(p.device().is_cpu());
  EXPECT_EQ(p.shape(), (Shape{48, 3}));

  std::string path = temp_path("moved.cortex");
  m->save(path);
  std::unique_ptr<Model> back = load_model(path);
  EXPECT_TRUE(back->device().is_cpu());
  for (const Tensor& t : back->network().parameters()) EXPECT_TRUE(t.device().is_cpu());
  EXPECT_ALL_CLOSE(back->predict(x), p, 1e-5, 1e-6);
  back->to(target());
  EXPECT_ALL_CLOSE(back->predict(x), p, 1e-5, 1e-6);
  EXPECT_EQ(back->evaluate(x, y)["accuracy"], m->evaluate(x, y)["accuracy"]);
}

TEST(ModelTo, CudaWithoutADeviceThrowsDeviceError) {
  if (backend::cuda_available()) GTEST_SKIP() << "a CUDA device is present";
  auto m = tiny_model();
  auto [x, y] = tiny_data(16);
  try {
    m->to(Device::cuda());
    FAIL() << "moving to a missing GPU must throw";
  } catch (const DeviceError& e) {
    EXPECT_NE(std::string(e.what()).find("cuda:0"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(m->device().is_cpu());
  EXPECT_NO_THROW(m->fit(x, y, {.batch_size = 8, .verbose = 0}));
}

// The lecture CNN, compiled as the lecture does (Adadelta 1.0, rho 0.95, eps 1e-7).
std::unique_ptr<Model> lecture_cnn(std::uint64_t seed) {
  auto m = std::make_unique<Model>(std::make_shared<nn::Sequential>(nn::zoo::lecture_cnn()), seed);
  m->compile({.loss = "categorical_crossentropy",
              .optimizer = std::make_shared<optim::Adadelta>(
                  optim::AdadeltaOptions{.learning_rate = 1.0, .rho = 0.95, .epsilon = 1e-7})});
  return m;
}

// The losses of three training steps of the lecture CNN (seed 5) on `device`,
// then its evaluation loss: 32 images drawn with seed 21 make one batch, so
// each epoch's loss is one step's.
std::vector<double> three_step_losses(Device device, const std::string& precision = "fp32") {
  Generator g(21);
  Tensor x = rand({32, 28, 28, 1}, g);
  Tensor y = data::to_categorical(argmax(rand({32, 10}, g), 1), 10);
  auto m = lecture_cnn(5);
  m->to(device);
  std::vector<double> losses =
      m->fit(x, y, {.batch_size = 32, .epochs = 3, .verbose = 0, .shuffle = false, .precision = precision})
          .history["loss"];
  for (const Tensor& p : m->network().parameters()) {
    EXPECT_EQ(p.device(), device);
    EXPECT_EQ(p.dtype(), DType::f32) << "master weights stay f32";
  }
  losses.push_back(m->evaluate(x, y, {.batch_size = 32, .precision = precision})["loss"]);
  return losses;
}

// Same seed, same weights (drawn on the host), same dropout masks (the same
// Philox stream on both devices): three steps must give the same losses.
TEST(CudaTraining, LectureCnnStepsMatchCpu) {
  if (!backend::cuda_available()) GTEST_SKIP() << "no CUDA device";
  ::cortex::testing::Fp32Convolutions fp32;  // TF32 would round the convolutions (tested on its own)
  std::vector<double> expected = three_step_losses(Device::cpu());
  std::vector<double> got = three_step_losses(Device::cuda());
  ASSERT_EQ(expected.size(), 4u);
  ASSERT_EQ(got.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i)
    EXPECT_NEAR(got[i], expected[i], 1e-4 * std::abs(expected[i])) << (i < 3 ? "step " : "evaluation ") << i;
}

// bf16 autocast: the same steps with matmuls and convolutions in bf16 stay
// within bf16 rounding of the fp32 run, and do differ from it (autocast ran).
TEST(CudaTraining, Bf16StepsStayCloseToFp32) {
  if (!backend::cuda_available()) GTEST_SKIP() << "no CUDA device";
  std::vector<double> expected = three_step_losses(Device::cuda());
  std::vector<double> got = three_step_losses(Device::cuda(), "bf16");
  ASSERT_EQ(expected.size(), 4u);
  ASSERT_EQ(got.size(), 4u);
  double largest = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_NEAR(got[i], expected[i], 2e-2 * std::abs(expected[i])) << (i < 3 ? "step " : "evaluation ") << i;
    largest = std::max(largest, std::abs(got[i] - expected[i]));
  }
  EXPECT_GT(largest, 1e-7) << "bf16 losses equal to fp32's: autocast did not run";
}

TEST(ModelPrecision, UnknownOrUnavailablePrecisionsAreClearErrors) {
  auto m = tiny_model();
  auto [x, y] = tiny_data(16);
  try {
    m->fit(x, y, {.batch_size = 8, .verbose = 0, .precision = "fp16"});
    FAIL() << "fp16 is not a precision Cortex offers";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("\"fp32\" or \"bf16\""), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("fp16"), std::string::npos) << e.what();
  }
  try {
    m->evaluate(x, y, {.precision = "bf16"});  // the model is on the CPU
    FAIL() << "bf16 needs a CUDA device";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("CUDA"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("cpu"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace cortex::train
