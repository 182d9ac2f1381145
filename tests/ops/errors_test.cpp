// Bad input: every op names what it expected and what it got.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "support/check.h"

namespace cortex {
namespace {

// Runs fn, expecting an exception of type E whose message holds every fragment.
template <typename E, typename F>
void expect_error(F&& fn, std::initializer_list<const char*> fragments) {
  try {
    fn();
    ADD_FAILURE() << "expected an exception";
  } catch (const E& e) {
    std::string msg = e.what();
    for (const char* f : fragments) EXPECT_NE(msg.find(f), std::string::npos) << "message: " << msg << "\nmissing: " << f;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what();
  }
}

TEST(OpErrors, MismatchedShapes) {
  expect_error<ShapeError>([] { add(zeros({2, 3}), zeros({4})); }, {"add", "[2, 3]", "[4]"});
  expect_error<ShapeError>([] { matmul(zeros({2, 3}), zeros({4, 5})); }, {"matmul", "[2, 3]", "[4, 5]"});
  expect_error<ShapeError>([] { linear(zeros({2, 3}), zeros({4, 5})); }, {"linear", "(in, out)"});
  expect_error<ShapeError>([] { linear(zeros({2, 3}), zeros({3, 5}), zeros({4})); }, {"bias", "[5]", "[4]"});
  expect_error<ShapeError>([] { concat({zeros({2, 3}), zeros({3, 3})}, 1); }, {"concat", "[2, 3]", "[3, 3]"});
  expect_error<ShapeError>([] { conv2d(zeros({1, 5, 5, 3}), zeros({3, 3, 2, 4})); }, {"conv2d", "channels"});
  expect_error<ShapeError>([] { conv2d(zeros({1, 2, 2, 1}), zeros({3, 3, 1, 1})); }, {"conv2d", "2x2", "3x3"});
  expect_error<ShapeError>([] { softmax_cross_entropy(zeros({2, 3}), zeros({2, 4})); }, {"targets", "[2, 3]"});
  expect_error<ShapeError>([] { sparse_softmax_cross_entropy(zeros({2, 3}), zeros({3}, DType::i64)); },
                           {"labels", "[2]", "[3]"});
  expect_error<ShapeError>([] { split(zeros({5}), {2, 2}); }, {"split", "5", "4"});
}

TEST(OpErrors, WrongRanks) {
  expect_error<ShapeError>([] { conv2d(zeros({28, 28}), zeros({3, 3, 1, 32})); },
                           {"conv2d", "rank-4 NHWC input", "[28, 28]"});
  expect_error<ShapeError>([] { max_pool2d(zeros({28, 28, 1})); }, {"max_pool2d", "rank-4", "[28, 28, 1]"});
  expect_error<ShapeError>([] { matmul(scalar(1), zeros({2})); }, {"matmul", "rank >= 1"});
  expect_error<ShapeError>([] { softmax_cross_entropy(zeros({6}), zeros({6})); }, {"(N, C) logits", "[6]"});
}

TEST(OpErrors, OutOfRangeAxesAndIndices) {
  expect_error<IndexError>([] { sum(zeros({2, 3}), {2}); }, {"sum", "[-2, 1]", "got 2"});
  expect_error<IndexError>([] { softmax(zeros({2, 3}), -3); }, {"softmax", "got -3"});
  expect_error<IndexError>([] { argmax(zeros({2, 3}), 5); }, {"argmax"});
  expect_error<IndexError>([] { concat({zeros({2})}, 1); }, {"concat"});
  expect_error<IndexError>([] { index_select(zeros({3, 2}), 0, from_vector<std::int64_t>({0, 3})); }, {"3", "[0, 3)"});
  expect_error<IndexError>([] { one_hot(from_vector<std::int64_t>({0, 10}), 10); }, {"one_hot", "[0, 9]", "10"});
  expect_error<IndexError>([] { sparse_softmax_cross_entropy(zeros({1, 3}), from_vector<std::int64_t>({-1})); }, {"-1"});
}

TEST(OpErrors, WrongDtypesAndValues) {
  expect_error<DTypeError>([] { add(zeros({2}), zeros({2}, DType::f64)); }, {"add", "f32", "f64"});
  expect_error<DTypeError>([] { relu(zeros({2}, DType::i32)); }, {"relu", "i32"});
  expect_error<DTypeError>([] { where(zeros({2}), zeros({2}), zeros({2})); }, {"where", "bool"});
  expect_error<DTypeError>([] { index_select(zeros({2}), 0, zeros({1})); }, {"integer index", "f32"});
  expect_error<ValueError>([] { conv2d(zeros({1, 4, 4, 1}), zeros({3, 3, 1, 1}), {}, {.padding = "full"}); },
                           {"\"valid\"", "\"full\""});
  expect_error<ValueError>([] { conv2d(zeros({1, 4, 4, 1}), zeros({3, 3, 1, 1}), {}, {.strides = {0, 1}}); },
                           {"strides >= 1", "0"});
  // pads without padding "explicit" would be dropped silently (an unpadded 2x2 output).
  expect_error<ValueError>([] { conv2d(zeros({1, 4, 4, 1}), zeros({3, 3, 1, 1}), {}, {.pads = {1, 1, 1, 1}}); },
                           {"conv2d", "only with padding \"explicit\"", "\"valid\"", "1,1,1,1"});
  EXPECT_EQ(conv2d(zeros({1, 4, 4, 1}), zeros({3, 3, 1, 1}), {}, {.padding = "explicit", .pads = {1, 1, 1, 1}}).shape(),
            (Shape{1, 4, 4, 1}));
  expect_error<ValueError>(
      [] { conv2d(zeros({1, 4, 4, 1}), zeros({3, 3, 1, 1}), {}, {.output_padding = {1, 0}}); },
      {"conv2d takes no output_padding", "1x0"});
  // Output padding from the stride only (Keras's rule): with stride 1 and dilation 2 the
  // forward conv would not map the output back to the input.
  expect_error<ValueError>(
      [] { conv_transpose2d(ones({1, 2, 2, 1}), ones({2, 2, 1, 1}), {}, {.dilation = {2, 2}, .output_padding = {1, 1}}); },
      {"conv_transpose2d", "output_padding in [0, stride)", "1x1"});
  EXPECT_EQ(conv_transpose2d(ones({1, 2, 2, 1}), ones({2, 2, 1, 1}), {}, {.strides = {2, 2}, .output_padding = {1, 1}})
                .shape(),
            (Shape{1, 5, 5, 1}));
  // split's sizes cannot wrap around to the axis size; chunk cannot ask for 2^40 parts of nothing.
  const std::int64_t big = std::numeric_limits<std::int64_t>::max();
  expect_error<ShapeError>([&] { split(zeros({3}), {big, big, 5}); }, {"split", "adding up to 3", "more"});
  expect_error<ShapeError>([] { chunk(zeros({0}), std::int64_t{1} << 40); }, {"chunk", "size 0"});
  EXPECT_EQ(chunk(zeros({0}), 1).size(), 1u);
  Generator g(1);
  expect_error<ValueError>([&] { dropout(zeros({2}), 1.0, true, g); }, {"[0, 1)", "1"});
  expect_error<ValueError>([] { arange(0, 1, 0); }, {"non-zero step"});
  expect_error<ValueError>([] { clamp(zeros({1}), 1, 0); }, {"low <= high"});
}

TEST(OpErrors, BatchNormBadInputs) {
  Tensor mm = zeros({3}), mv = ones({3});
  expect_error<ShapeError>([&] { batch_norm(zeros({2, 4}), {}, {}, mm, mv); }, {"moving mean", "[4]", "[3]"});
  expect_error<ShapeError>([&] { batch_norm(zeros({2, 3}), zeros({2}), {}, mm, mv); }, {"gamma", "[3]", "[2]"});
  expect_error<ShapeError>([&] { batch_norm(zeros({3}), {}, {}, mm, mv); }, {"(batch, ..., channels)", "[3]"});
  expect_error<ValueError>([&] { batch_norm(zeros({2, 3}), {}, {}, mm, mv, {.momentum = 1.5}); }, {"momentum", "1.5"});
  expect_error<DTypeError>([&] { batch_norm(zeros({2, 3}, DType::f64), {}, {}, mm, mv); }, {"f64", "f32"});
  expect_error<ShapeError>([&] { batch_norm(zeros({0, 3}), {}, {}, mm, mv); }, {"at least one row", "[0, 3]"});
  EXPECT_EQ(batch_norm(zeros({0, 3}), {}, {}, mm, mv, {.training = false}).numel(), 0);
  EXPECT_EQ(mm.to_vector<float>(), std::vector<float>(3, 0.0f)) << "a failed call leaves the averages alone";
}

// bf16 runs on CUDA (autocast's activations); on the host the kernels say so.
TEST(OpErrors, Bf16OnTheHostIsAClearError) {
  Tensor h = ones({2, 4, 4, 1}).to(DType::bf16);
  expect_error<DTypeError>([&] { relu(h); }, {"relu", "bf16"});
  expect_error<DTypeError>([&] { max_pool2d(h); }, {"bf16"});
  expect_error<DTypeError>([&] { softmax(h.reshape({2, 16})); }, {"softmax", "bf16"});
}

// bf16 meeting f32 in an element-wise op computes in f32 (PyTorch's promotion),
// and the bf16 operand's gradient comes back in bf16.
TEST(OpValues, Bf16MeetingF32IsPromotedToF32) {
  Tensor a = from_vector<float>({1.0f, 2.5f, -3.0f}).to(DType::bf16).set_requires_grad(true);
  Tensor b = from_vector<float>({0.1f, 0.2f, 0.3f}).set_requires_grad(true);
  Tensor y = a * b + b;
  EXPECT_EQ(y.dtype(), DType::f32);
  EXPECT_ALL_CLOSE(y, from_vector<float>({0.2f, 0.7f, -0.6f}), 1e-6, 1e-6);
  EXPECT_EQ(gt(b, a).to(DType::f32).to_vector<float>(), (std::vector<float>{0.0f, 0.0f, 1.0f}));
  sum(y).backward();
  EXPECT_EQ(a.grad().dtype(), DType::bf16);
  EXPECT_EQ(b.grad().dtype(), DType::f32);
  // bf16 rounds 0.1 to 0.10009765625 and 0.3 to 0.30078125.
  EXPECT_EQ(a.grad().to(DType::f32).to_vector<float>(),
            (std::vector<float>{0.10009765625f, 0.2001953125f, 0.30078125f}));
  EXPECT_ALL_CLOSE(b.grad(), from_vector<float>({2.0f, 3.5f, -2.0f}), 1e-6, 1e-6);
}

// A loss given bf16 logits computes in f32: the f32 loss of the same
// (bf16-rounded) numbers, and the logits' gradient in bf16.
TEST(OpValues, LossesTakeBf16InF32) {
  Generator g(2);
  Tensor rounded = (randn({6, 5}, g) * 3.0).to(DType::bf16).to(DType::f32);
  Tensor targets = softmax(randn({6, 5}, g));
  Tensor expected = softmax_cross_entropy(rounded, targets);
  Tensor logits = rounded.to(DType::bf16).set_requires_grad(true);
  Tensor loss = softmax_cross_entropy(logits, targets);
  EXPECT_EQ(loss.dtype(), DType::f32);
  EXPECT_EQ(loss.item(), expected.item());
  loss.backward();
  EXPECT_EQ(logits.grad().dtype(), DType::bf16);
  Tensor want = (softmax(rounded) - targets) / 6.0;
  EXPECT_ALL_CLOSE(logits.grad().to(DType::f32), want, 1e-2, 1e-3);
  EXPECT_EQ(mse(logits, rounded).item(), 0.0);
}

TEST(OpErrors, RankZeroAndEmptyInputs) {
  expect_error<IndexError>([] { sum(scalar(1), {0}); }, {"sum", "rank-0"});
  expect_error<IndexError>([] { argmax(scalar(1), 0); }, {"argmax", "rank-0"});
  expect_error<IndexError>([] { concat({scalar(1), scalar(2)}); }, {"concat", "rank-0"});
  expect_error<IndexError>([] { split(scalar(1), {1}); }, {"split"});
  expect_error<IndexError>([] { index_select(scalar(1), 0, from_vector<std::int64_t>({0})); }, {"index_select"});
  expect_error<ShapeError>([] { conv2d(ones({1, 4, 4, 1}), ones({0, 3, 1, 2})); }, {"non-empty kernel", "[0, 3, 1, 2]"});
  expect_error<ShapeError>([] { max_pool2d(ones({1, 0, 4, 1}), {.padding = "same"}); }, {"non-empty image"});
  EXPECT_EQ(sum(scalar(2)).item(), 2.0);  // reducing every axis of a scalar is fine
  // Zero-size axes are valid and give empty or zero results.
  EXPECT_EQ(matmul(zeros({2, 3, 0}), zeros({0, 4})).shape(), (Shape{2, 3, 4}));
  EXPECT_EQ(sum(matmul(zeros({2, 3, 0}), zeros({0, 4}))).item(), 0.0);
  EXPECT_EQ(softmax(zeros({2, 0})).shape(), (Shape{2, 0}));
  Tensor w = zeros({0, 5}).set_requires_grad(true);
  linear(zeros({3, 0}), w).sum().backward();
  EXPECT_EQ(w.grad().shape(), (Shape{0, 5}));
}

TEST(OpValues, TiesShareTheGradient) {
  Tensor a = tensor({1, 2, 3}).set_requires_grad(true), b = tensor({1, 5, 0}).set_requires_grad(true);
  maximum(a, b).sum().backward();
  EXPECT_EQ(a.grad().to_vector<float>(), (std::vector<float>{0.5f, 0, 1}));
  EXPECT_EQ(b.grad().to_vector<float>(), (std::vector<float>{0.5f, 1, 0}));
  Tensor x = tensor({4, 1, 4, 2}).set_requires_grad(true);
  max(x).backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{0.5f, 0, 0.5f, 0}));
}

TEST(OpValues, KnownResults) {
  // Hand-computed: a 3x3 valid conv of a ramp with a kernel of ones sums each window.
  Tensor x = arange(16).reshape({1, 4, 4, 1});
  Tensor y = conv2d(x, ones({3, 3, 1, 1}), tensor({1}));
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{46, 55, 82, 91}));
  EXPECT_EQ(max_pool2d(x).to_vector<float>(), (std::vector<float>{5, 7, 13, 15}));
  EXPECT_EQ(avg_pool2d(x).to_vector<float>(), (std::vector<float>{2.5f, 4.5f, 10.5f, 12.5f}));
  EXPECT_EQ(matmul(tensor({1, 2, 3, 4}, {2, 2}), tensor({5, 6, 7, 8}, {2, 2})).to_vector<float>(),
            (std::vector<float>{19, 22, 43, 50}));
  std::vector<float> sm = softmax(tensor({0, std::log(3.0f)})).to_vector<float>();
  EXPECT_NEAR(sm[0], 0.25, 1e-6);
  EXPECT_NEAR(sm[1], 0.75, 1e-6);
  EXPECT_NEAR(sparse_softmax_cross_entropy(tensor({0, std::log(3.0f)}, {1, 2}), from_vector<std::int64_t>({1})).item(),
              -std::log(0.75), 1e-6);
  EXPECT_EQ(one_hot(from_vector<std::int64_t>({2, 0}), 3).to_vector<float>(), (std::vector<float>{0, 0, 1, 1, 0, 0}));
  EXPECT_NEAR(var(tensor({1, 2, 3, 4})).item(), 1.25, 1e-6);
  EXPECT_NEAR(var(tensor({1, 2, 3, 4}), {}, false, 1).item(), 5.0 / 3, 1e-6);
}

TEST(OpValues, PowHasPyTorchsGradientsAtZero) {
  // d/da a^b = b a^(b-1): 0 where b = 0 (not 0 * 0^-1 = NaN), +inf-free elsewhere.
  Tensor a = tensor({0, 0, 0, 2}).set_requires_grad(true);
  Tensor b = tensor({0, 2, -1, 3}).set_requires_grad(true);
  pow(a, b).sum().backward();
  std::vector<float> ga = a.grad().to_vector<float>(), gb = b.grad().to_vector<float>();
  EXPECT_EQ(ga[0], 0.0f);
  EXPECT_EQ(ga[1], 0.0f);               // 2 * 0^1
  EXPECT_TRUE(std::isinf(ga[2]));       // -1 * 0^-2: a true pole, kept
  EXPECT_FLOAT_EQ(ga[3], 12.0f);        // 3 * 2^2
  // d/db a^b = a^b log a: 0 where a = 0 and b >= 0 (not 0 * -inf = NaN).
  EXPECT_EQ(gb[0], 0.0f);
  EXPECT_EQ(gb[1], 0.0f);
  EXPECT_TRUE(std::isinf(gb[2]) || std::isnan(gb[2]));  // inf * -inf at a pole: not masked, as in PyTorch
  EXPECT_FLOAT_EQ(gb[3], 8.0f * std::log(2.0f));
}

TEST(OpErrors, NonFiniteNumbersPropagateAsNumbersNotCrashes) {
  Tensor x = tensor({0.0f, -1.0f, 1.0f});
  std::vector<float> l = log(x).to_vector<float>();
  EXPECT_TRUE(std::isinf(l[0]) && l[0] < 0);
  EXPECT_TRUE(std::isnan(l[1]));
  Tensor big = tensor({1000.0f, 0.0f});
  std::vector<float> s = softmax(big).to_vector<float>();
  EXPECT_EQ(s[0], 1.0f);
  EXPECT_EQ(s[1], 0.0f);
  EXPECT_TRUE(std::isnan(max(tensor({1.0f, NAN, 3.0f})).item()));
}

}  // namespace
}  // namespace cortex
