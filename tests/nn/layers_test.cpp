// Layers and Sequential: shapes, parameter counts, state dicts, modes, errors.
#include <gtest/gtest.h>

#include <cmath>

#include "cortex/nn/nn.h"
#include "support/check.h"

namespace cortex::nn {
namespace {

using zoo::lecture_cnn;

TEST(Sequential, LectureCnnHasKerasParameterCountAndNames) {
  Sequential model = lecture_cnn();
  std::string table = model.summary();
  EXPECT_NE(table.find("Total params: 1,199,882"), std::string::npos) << table;
  EXPECT_NE(table.find("conv2d_1 (Conv2D)"), std::string::npos) << table;
  EXPECT_NE(table.find("(None, 12, 12, 64)"), std::string::npos) << table;
  EXPECT_NE(table.find("max_pooling2d (MaxPooling2D)"), std::string::npos) << table;
  NamedTensors params = model.named_parameters();
  ASSERT_EQ(params.size(), 8u);
  EXPECT_EQ(params[0].first, "conv2d.kernel");
  EXPECT_EQ(params[0].second.shape(), (Shape{3, 3, 1, 32}));
  EXPECT_EQ(params[2].first, "conv2d_1.kernel");
  EXPECT_EQ(params[7].first, "dense_1.bias");
  // Names from the days of positions map onto today's.
  NamedTensors old{{"0.kernel", params[0].second}, {"7.bias", params[7].second}, {"other", params[1].second}};
  NamedTensors renamed = model.named_by_position(old);
  EXPECT_EQ(renamed[0].first, "conv2d.kernel");
  EXPECT_EQ(renamed[1].first, "dense_1.bias");
  EXPECT_EQ(renamed[2].first, "other");
}

TEST(Sequential, GivenNamesAreKeptAndMustBeUnique) {
  Dense head({.units = 3});
  head.set_name("head");
  Sequential model({Dense({.units = 4}), std::move(head), Dense({.units = 2})});
  model.build({1, 5});
  NamedTensors params = model.named_parameters();
  ASSERT_EQ(params.size(), 6u);
  EXPECT_EQ(params[0].first, "dense.kernel");
  EXPECT_EQ(params[2].first, "head.kernel");
  EXPECT_EQ(params[4].first, "dense_1.kernel");
  Dense twin({.units = 1});
  twin.set_name("head");
  try {
    model.add(std::move(twin));
    ADD_FAILURE() << "a second layer named 'head' was accepted";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("two layers are named 'head'"), std::string::npos) << e.what();
  }
  auto shared = std::make_shared<Dense>(DenseOptions{.units = 2});
  Sequential again({shared});
  EXPECT_THROW(again.add(shared), ValueError);
}

TEST(Sequential, ForwardGivesProbabilitiesAndLogitsSkipTheSoftmax) {
  Sequential model = lecture_cnn();
  model.set_generator(std::make_shared<Generator>(3));
  Generator g(1);
  Tensor x = rand({4, 28, 28, 1}, g);
  model.eval();
  Tensor p = model(x);
  EXPECT_EQ(p.shape(), (Shape{4, 10}));
  EXPECT_ALL_CLOSE(sum(p, {1}), ones({4}), 1e-5, 1e-5);
  EXPECT_EQ(model.final_activation(), "softmax");
  EXPECT_ALL_CLOSE(softmax(model.forward_logits(x)), p, 1e-5, 1e-6);
}

TEST(Layers, InitialisersFollowKerasFans) {
  Generator g(0);
  // glorot_uniform on HWIO (3, 3, 32, 64): limit sqrt(6 / (9*32 + 9*64))
  Tensor k = initialize("glorot_uniform", {3, 3, 32, 64}, g);
  double limit = std::sqrt(6.0 / (9 * 32 + 9 * 64));
  EXPECT_LE(max(k).item(), limit);
  EXPECT_GE(min(k).item(), -limit);
  EXPECT_NEAR(max(k).item(), limit, limit * 0.01);
  Tensor h = initialize("he_normal", {1000, 200}, g);
  EXPECT_NEAR(cortex::std(h).item(), std::sqrt(2.0 / 1000), 0.002);
  EXPECT_LE(max(abs(h)).item(), 2 * std::sqrt(2.0 / 1000) / .87962566103423978 + 1e-6);
  Tensor q = initialize("orthogonal", {6, 4}, g);
  std::vector<float> eye(16, 0.0f);
  for (int i = 0; i < 4; ++i) eye[i * 5] = 1.0f;
  EXPECT_ALL_CLOSE(matmul(q.transpose(0, 1), q), from_vector(eye, {4, 4}), 1e-5, 1e-5);
  EXPECT_EQ(initialize("constant:0.5", {2}, g).to_vector<float>(), (std::vector<float>{0.5f, 0.5f}));
  EXPECT_THROW(initialize("glorot", {2}, g), ValueError);
}

TEST(Layers, RegularisersAddToTheLoss) {
  Dense d({.units = 2, .kernel_initializer = "ones", .kernel_regularizer = L1L2(0.1, 0.01)});
  d(zeros({1, 3}));
  // 6 kernel entries of 1: 0.1 * 6 + 0.01 * 6
  EXPECT_NEAR(d.regularization_loss().item(), 0.66, 1e-6);
  Sequential s({Input({3}), std::move(d)});
  EXPECT_NEAR(s.regularization_loss().item(), 0.66, 1e-6);
}

// Conv2D(activation = "relu") runs conv2d's fused relu: the same output and
// gradients as the convolution followed by a separate relu.
TEST(Layers, Conv2DReluIsTheConvolutionThenRelu) {
  Conv2D conv({.filters = 16, .kernel_size = {3, 3}, .activation = "relu"});
  Generator g(5);
  Tensor x = randn({2, 9, 9, 8}, g);
  x.set_requires_grad();
  Tensor y = conv(x);
  Tensor r = randn(y.shape(), g);
  sum(y * r).backward();
  Tensor kernel = conv.named_parameters()[0].second, bias = conv.named_parameters()[1].second;
  const Tensor dx = x.grad(), dk = kernel.grad(), db = bias.grad();
  EXPECT_GT(sum((y == zeros_like(y)).to(DType::f32)).item<float>(), 100.0f);  // the relu cut some outputs
  x.zero_grad();
  kernel.zero_grad();
  bias.zero_grad();
  Tensor reference = relu(conv.call_linear(x));
  sum(reference * r).backward();
  EXPECT_ALL_CLOSE(y, reference, 1e-6, 1e-6);
  EXPECT_ALL_CLOSE(dx, x.grad(), 1e-5, 1e-5);
  EXPECT_ALL_CLOSE(dk, kernel.grad(), 1e-5, 1e-5);
  EXPECT_ALL_CLOSE(db, bias.grad(), 1e-5, 1e-5);
}

// A NaN in the input reaches the output through the fused relu (on the cpu
// backend and on ref), as it does through relu(): it must reach the loss.
TEST(Layers, Conv2DReluKeepsNaN) {
  for (auto b : {backend::Backend::Cpu, backend::Backend::Ref}) {
    backend::BackendScope scope(b);
    Conv2D conv({.filters = 8, .kernel_size = {3, 3}, .activation = "relu"});
    Generator g(6);
    Tensor x = randn({1, 6, 6, 16}, g);
    x.slice(1, 2, 3).slice(2, 2, 3).fill_(std::nan(""));  // pixel (2, 2): read by outputs (0..2, 0..2)
    Tensor y = conv(x);
    const Tensor nan = (y != y).to(DType::f32);
    EXPECT_EQ(sum(nan).item<float>(), 9.0f * 8.0f);  // every channel of the 3x3 outputs that see it
  }
}

TEST(Layers, DropoutScalesInTrainingAndIsIdentityInEval) {
  Dropout d(0.5);
  d.set_generator(std::make_shared<Generator>(1));
  Tensor x = ones({10000});
  Tensor y = d(x);
  std::vector<float> v = y.to_vector<float>();
  for (float e : v) EXPECT_TRUE(e == 0.0f || e == 2.0f);
  EXPECT_NEAR(mean(y).item(), 1.0, 0.05);
  d.eval();
  EXPECT_EQ(d(x).to_vector<float>(), x.to_vector<float>());
}

TEST(Layers, BatchNormalizationUsesBatchStatsThenMovingAverages) {
  BatchNormalization bn({.momentum = 0.5});
  Tensor x = tensor({1, 3, 5, 7}, {4, 1});
  Tensor y = bn(x);
  EXPECT_NEAR(mean(y).item(), 0.0, 1e-6);
  EXPECT_NEAR(var(y).item(), 5.0 / (5.0 + 1e-3), 1e-4);  // var(x) = 5
  NamedTensors buf = bn.named_buffers();
  EXPECT_NEAR(buf[0].second.item(), 2.0, 1e-6);  // 0.5 * 0 + 0.5 * 4
  EXPECT_NEAR(buf[1].second.item(), 3.0, 1e-6);  // 0.5 * 1 + 0.5 * 5
  bn.eval();
  EXPECT_NEAR(bn(tensor({2}, {1, 1})).item(), 0.0, 1e-6);
}

TEST(Layers, StateDictRoundTrip) {
  Sequential a = lecture_cnn(), b = lecture_cnn();
  a.set_generator(std::make_shared<Generator>(1));
  b.set_generator(std::make_shared<Generator>(2));
  a.summary();
  b.summary();
  b.load_state_dict(a.state_dict());
  Generator g(5);
  Tensor x = rand({2, 28, 28, 1}, g);
  a.eval();
  b.eval();
  EXPECT_EQ(a(x).to_vector<float>(), b(x).to_vector<float>());
  NamedTensors bad = a.state_dict();
  bad[0].second = zeros({1});
  EXPECT_THROW(b.load_state_dict(bad), ShapeError);
  bad = a.state_dict();
  bad.pop_back();
  EXPECT_THROW(b.load_state_dict(bad), ValueError);
}

TEST(Layers, BadInputNamesTheLayer) {
  Sequential model = lecture_cnn();
  try {
    model(zeros({2, 28, 28}));
    FAIL() << "a rank-3 input must be refused";
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("(batch, 28, 28, 1)"), std::string::npos) << e.what();
  }
  Conv2D c({.filters = 4});
  try {
    c(zeros({28, 28}));
    FAIL();
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("Conv2D 'conv2d'"), std::string::npos) << e.what();
  }
  Dense d({.units = 3});
  d(zeros({1, 4}));
  EXPECT_THROW(d(zeros({1, 5})), ShapeError);
  EXPECT_THROW(Dense({.units = 0}), ValueError);
  EXPECT_THROW(Dense({.units = 2, .activation = "relu6"}), ValueError);
  EXPECT_THROW(Dropout(1.0), ValueError);
  // groups = 0 would divide by zero when built; the sizes of a window must be positive.
  EXPECT_THROW(Conv2D({.filters = 4, .groups = 0}), ValueError);
  EXPECT_THROW(Conv2D({.filters = 4, .kernel_size = {0, 3}}), ValueError);
  EXPECT_THROW(Conv2D({.filters = 4, .strides = {1, 0}}), ValueError);
  EXPECT_THROW(Conv2D({.filters = 4, .dilation_rate = {-1, 1}}), ValueError);
  // A rank-0 input has no batch axis to build from.
  Sequential no_input({Dense({.units = 2})});
  EXPECT_THROW(no_input(scalar(1.0)), ShapeError);
  EXPECT_EQ(no_input(zeros({3, 4})).shape(), (Shape{3, 2}));
  BatchNormalization bn;
  bn(ones({2, 3}));
  EXPECT_THROW(bn(scalar(1.0)), ShapeError);  // built: the rank is still checked
  EXPECT_THROW(bn(ones({2, 4})), ShapeError);
  EXPECT_THROW(BatchNormalization().build({}), ShapeError);  // build() checks what no input did
  EXPECT_THROW(BatchNormalization().build({4}), ShapeError);
  // A negative or non-finite regulariser would reward growing weights, or make the loss inf.
  EXPECT_THROW(Dense({.units = 2, .kernel_regularizer = L2(-0.01)}), ValueError);
  EXPECT_THROW(Conv2D({.filters = 2, .bias_regularizer = L1(INFINITY)}), ValueError);
  EXPECT_NO_THROW(Dense({.units = 2, .kernel_regularizer = L2(0.01)}));
  // Sizes in a config are whole numbers: 2.7 units is not 2.
  EXPECT_THROW(layer_from_config("Dense", R"({"units": 2.7})"), ValueError);
  EXPECT_THROW(layer_from_config("MaxPooling2D", R"({"pool_size": [2.5, 3]})"), ValueError);
  EXPECT_THROW(layer_from_config("Reshape", R"({"target_shape": [4, 1e30]})"), ValueError);
  EXPECT_THROW(layer_from_config("Dense", R"({"units": 2, "kernel_regularizer": {"l2": -1}})"), ValueError);
  EXPECT_EQ(layer_from_config("Dense", R"({"units": 2})")->type(), "Dense");
  const std::string deep = R"({"units": 2, "kernel_size": )" + std::string(100'000, '[') + std::string(100'000, ']') + "}";
  EXPECT_THROW(layer_from_config("Dense", deep), ValueError);  // no recursion through 100,000 levels
  EXPECT_EQ(snake_case("GlobalAveragePooling2D"), "global_average_pooling2d");
}

}  // namespace
}  // namespace cortex::nn
