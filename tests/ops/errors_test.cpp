// Bad input: every op names what it expected and what it got.
#include <gtest/gtest.h>

#include <cmath>

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
  Generator g(1);
  expect_error<ValueError>([&] { dropout(zeros({2}), 1.0, true, g); }, {"[0, 1)", "1"});
  expect_error<ValueError>([] { arange(0, 1, 0); }, {"non-zero step"});
  expect_error<ValueError>([] { clamp(zeros({1}), 1, 0); }, {"low <= high"});
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
