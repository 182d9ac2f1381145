// Finite-difference gradient checks, f64 on the ref backend: one table, one
// helper, every op that has a gradient.
#include <gtest/gtest.h>

#include "support/check.h"

namespace cortex {
namespace {

using testing::Fn;

struct GradCase {
  std::string name;
  std::vector<Shape> shapes;
  Fn fn;
  double low = -1.0, high = 1.0;  // input range (kept away from kinks and poles where needed)
};

Tensor labels(std::vector<std::int64_t> v) { return from_vector(v); }

std::vector<GradCase> cases() {
  using V = const std::vector<Tensor>&;
  Conv2dOptions same{.strides = {2, 1}, .padding = "same"};
  Conv2dOptions dil{.padding = "explicit", .pads = {1, 0, 2, 1}, .dilation = {2, 1}, .groups = 2};
  return {
      {"add_broadcast", {{3, 4}, {4}}, [](V x) { return x[0] + x[1]; }},
      {"sub_broadcast", {{2, 1, 3}, {4, 1}}, [](V x) { return x[0] - x[1]; }},
      {"mul_broadcast", {{3, 4}, {3, 1}}, [](V x) { return x[0] * x[1]; }},
      {"div", {{3, 4}, {3, 4}}, [](V x) { return x[0] / x[1]; }, 0.5, 2.0},
      {"pow", {{5}, {5}}, [](V x) { return pow(x[0], x[1]); }, 0.5, 2.0},
      {"pow_scalar", {{5}}, [](V x) { return pow(x[0], 3.0); }},
      {"maximum", {{4, 3}, {3}}, [](V x) { return maximum(x[0], x[1]); }},
      {"minimum", {{4, 3}, {4, 3}}, [](V x) { return minimum(x[0], x[1]); }},
      {"neg", {{6}}, [](V x) { return -x[0]; }},
      {"exp", {{6}}, [](V x) { return exp(x[0]); }},
      {"log", {{6}}, [](V x) { return log(x[0]); }, 0.2, 3.0},
      {"sqrt", {{6}}, [](V x) { return sqrt(x[0]); }, 0.2, 3.0},
      {"rsqrt", {{6}}, [](V x) { return rsqrt(x[0]); }, 0.2, 3.0},
      {"abs", {{8}}, [](V x) { return abs(x[0]); }},  // U(-1, 1) lands within eps of the kink with p ~ 1e-6
      {"square", {{6}}, [](V x) { return square(x[0]); }},
      {"clamp", {{8}}, [](V x) { return clamp(x[0] * 3.0, -1.23, 1.37); }},
      {"where", {{3, 4}, {3, 4}}, [](V x) { return where(gt(x[0], x[1]), x[0] * 2.0, x[1]); }},
      {"relu", {{10}}, [](V x) { return relu(x[0]); }},
      {"leaky_relu", {{10}}, [](V x) { return leaky_relu(x[0], 0.2); }},
      {"elu", {{10}}, [](V x) { return elu(x[0], 1.5); }},
      {"selu", {{10}}, [](V x) { return selu(x[0]); }},
      {"sigmoid", {{10}}, [](V x) { return sigmoid(x[0] * 4.0); }},
      {"tanh", {{10}}, [](V x) { return tanh(x[0] * 2.0); }},
      {"gelu", {{10}}, [](V x) { return gelu(x[0] * 3.0); }},
      {"softplus", {{10}}, [](V x) { return softplus(x[0] * 5.0); }},
      {"silu", {{10}}, [](V x) { return silu(x[0] * 3.0); }},
      {"softmax_last", {{3, 5}}, [](V x) { return softmax(x[0] * 3.0); }},
      {"softmax_axis0", {{4, 3, 2}}, [](V x) { return softmax(x[0], 0); }},
      {"log_softmax_axis1", {{2, 5, 3}}, [](V x) { return log_softmax(x[0] * 2.0, 1); }},
      {"sum_axes", {{2, 3, 4}}, [](V x) { return sum(x[0], {0, 2}); }},
      {"sum_keepdims", {{2, 3, 4}}, [](V x) { return sum(x[0], {1}, true); }},
      {"mean_all", {{3, 5}}, [](V x) { return mean(x[0]); }},
      {"max_axis", {{4, 5}}, [](V x) { return max(x[0], {1}); }},
      {"min_all", {{4, 5}}, [](V x) { return min(x[0]); }},
      {"var", {{4, 5}}, [](V x) { return var(x[0], {1}, false, 1); }},
      {"std", {{4, 5}}, [](V x) { return cortex::std(x[0], {0}); }},
      {"logsumexp", {{3, 4}}, [](V x) { return logsumexp(x[0] * 3.0, {1}); }},
      {"matmul_2d", {{3, 4}, {4, 5}}, [](V x) { return matmul(x[0], x[1]); }},
      {"matmul_batched_2d", {{2, 3, 4}, {4, 2}}, [](V x) { return matmul(x[0], x[1]); }},
      {"matmul_broadcast", {{2, 1, 3, 4}, {3, 4, 2}}, [](V x) { return matmul(x[0], x[1]); }},
      {"matmul_vectors", {{4}, {4, 3}, {3}}, [](V x) { return matmul(matmul(x[0], x[1]), x[2]); }},
      {"matmul_transposed", {{4, 3}, {5, 4}}, [](V x) { return matmul(x[0].transpose(0, 1), x[1].transpose(0, 1)); }},
      {"linear", {{5, 3}, {3, 4}, {4}}, [](V x) { return linear(x[0], x[1], x[2]); }},
      {"linear_3d", {{2, 3, 3}, {3, 2}}, [](V x) { return linear(x[0], x[1]); }},
      {"conv2d_valid_bias", {{2, 5, 6, 3}, {3, 2, 3, 4}, {4}}, [](V x) { return conv2d(x[0], x[1], x[2]); }},
      {"conv2d_fused_relu", {{2, 5, 6, 3}, {3, 2, 3, 4}, {4}},
       [](V x) { return conv2d(x[0], x[1], x[2], {.relu = true}); }},
      {"conv2d_same_stride", {{1, 5, 5, 2}, {3, 3, 2, 3}}, [same](V x) { return conv2d(x[0], x[1], {}, same); }},
      {"conv2d_dilation_groups", {{1, 6, 5, 4}, {2, 3, 2, 4}}, [dil](V x) { return conv2d(x[0], x[1], {}, dil); }},
      {"conv_transpose2d", {{2, 3, 3, 2}, {3, 3, 4, 2}, {4}},
       [](V x) { return conv_transpose2d(x[0], x[1], x[2], {.strides = {2, 2}, .padding = "same"}); }},
      {"conv_transpose2d_groups", {{1, 3, 4, 4}, {2, 2, 3, 4}},
       [](V x) { return conv_transpose2d(x[0], x[1], {}, {.strides = {2, 1}, .groups = 2, .output_padding = {1, 0}}); }},
      {"max_pool2d", {{2, 4, 5, 3}}, [](V x) { return max_pool2d(x[0]); }},
      {"max_pool2d_same", {{1, 5, 5, 2}}, [](V x) { return max_pool2d(x[0], {.pool_size = {3, 3}, .strides = {2, 2}, .padding = "same"}); }},
      {"avg_pool2d_same", {{1, 5, 4, 2}}, [](V x) { return avg_pool2d(x[0], {.pool_size = {2, 3}, .strides = {2, 1}, .padding = "same"}); }},
      {"global_avg_pool2d", {{2, 3, 4, 5}}, [](V x) { return global_avg_pool2d(x[0]); }},
      {"batch_norm_train", {{3, 2, 2, 4}, {4}, {4}}, [](V x) {
         Tensor mm = zeros({4}, DType::f64), mv = ones({4}, DType::f64);
         return batch_norm(x[0], x[1], x[2], mm, mv);
       }},
      {"batch_norm_train_no_affine", {{5, 3}}, [](V x) {
         Tensor mm = zeros({3}, DType::f64), mv = ones({3}, DType::f64);
         return batch_norm(x[0] * 3.0, {}, {}, mm, mv);
       }},
      {"batch_norm_eval", {{4, 3}, {3}, {3}}, [](V x) {
         Tensor mm = full({3}, 0.2, DType::f64), mv = full({3}, 1.5, DType::f64);
         return batch_norm(x[0], x[1], x[2], mm, mv, {.training = false});
       }},
      {"concat", {{2, 3}, {2, 1}, {2, 4}}, [](V x) { return concat({x[0], x[1], x[2]}, 1); }},
      {"stack", {{2, 3}, {2, 3}}, [](V x) { return stack({x[0], x[1] * 2.0}, 1); }},
      {"split", {{5, 2}}, [](V x) { auto p = split(x[0], {2, 3}); return p[0].sum() * p[1].sum(); }},
      {"pad", {{2, 3}}, [](V x) { return pad(x[0], {{1, 0}, {2, 1}}, 0.5); }},
      {"index_select", {{5, 3}}, [](V x) { return index_select(x[0], 0, labels({4, 0, 4, 2})); }},
      {"gather", {{3, 4}}, [](V x) { return gather(x[0], 1, from_vector<std::int64_t>({0, 3, 3, 1, 2, 2}, {3, 2})); }},
      {"softmax_cross_entropy", {{4, 5}, {4, 5}}, [](V x) { return softmax_cross_entropy(x[0] * 3.0, softmax(x[1])); }},
      {"sparse_softmax_cross_entropy", {{4, 5}},
       [](V x) { return sparse_softmax_cross_entropy(x[0] * 3.0, labels({1, 4, 0, 1}), Reduction::sum); }},
      {"categorical_cross_entropy", {{3, 4}}, [](V x) {
         return categorical_cross_entropy(softmax(x[0]), one_hot(labels({0, 3, 2}), 4).to(DType::f64));
       }},
      {"mse", {{3, 4}, {3, 4}}, [](V x) { return mse(x[0], x[1], Reduction::none); }},
      {"binary_cross_entropy", {{6}}, [](V x) { return binary_cross_entropy(sigmoid(x[0]), full({6}, 0.3, DType::f64)); }},
      {"binary_cross_entropy_with_logits", {{6}}, [](V x) {
         return binary_cross_entropy_with_logits(x[0] * 4.0, full({6}, 0.7, DType::f64));
       }},
      {"views", {{2, 3, 4}}, [](V x) {
         return x[0].permute({2, 0, 1}).reshape({4, 6}).slice(1, 1, 6, 2).transpose(0, 1).select(0, 1);
       }},
      // Multi-output nodes: pieces used twice, out of order, or not at all.
      {"split_some_pieces", {{3, 7}}, [](V x) {
         std::vector<Tensor> p = split(x[0], {2, 1, 4}, 1);
         return concat({p[2].slice(1, 0, 2) * p[0], p[0] * 3.0}, 1);
       }},
      {"unbind_steps", {{2, 4, 3}}, [](V x) {
         std::vector<Tensor> t = unbind(x[0], 1);
         return stack({t[3] * t[1], tanh(t[1]), t[0]}, 0);
       }},
      {"chunk_gates", {{2, 8}}, [](V x) {
         std::vector<Tensor> g = chunk(x[0], 4, 1);
         return sigmoid(g[0]) * tanh(g[2]) + sigmoid(g[1]);
       }},
      {"expand_unsqueeze_flatten", {{3}}, [](V x) { return x[0].unsqueeze(0).expand({2, 3}).flatten() * 2.0; }},
      {"dropout_fixed_mask", {{50}}, [](V x) {
         Generator g(3);
         return dropout(x[0], 0.4, true, g);
       }},
  };
}

void PrintTo(const GradCase& c, std::ostream* out) {
  *out << c.name << " with inputs";
  for (const auto& s : c.shapes) *out << ' ' << shape_str(s);
  *out << " in [" << c.low << ", " << c.high << "]";
}

class GradCheck : public ::testing::TestWithParam<GradCase> {};

TEST_P(GradCheck, MatchesFiniteDifferences) {
  const GradCase& c = GetParam();
  testing::expect_gradients(c.name, c.fn, testing::f64_inputs(c.shapes, 99, c.low, c.high));
}

INSTANTIATE_TEST_SUITE_P(Ops, GradCheck, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace cortex
