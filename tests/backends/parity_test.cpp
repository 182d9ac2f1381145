// Backend parity: every op on the cpu backend against the ref backend,
// forward and gradients, over odd sizes, strided views and broadcasting.
#include <gtest/gtest.h>

#include "support/check.h"

namespace cortex {
namespace {

using testing::ParityCase;

std::vector<ParityCase> cases() {
  using V = const std::vector<Tensor>&;
  std::vector<ParityCase> c = {
      {"add_broadcast", {{7, 13}, {13}}, [](V x) { return x[0] + x[1]; }},
      {"sub_transposed", {{13, 7}, {7, 13}}, [](V x) { return x[0].transpose(0, 1) - x[1]; }},
      {"mul_strided_slice", {{9, 20}, {9, 10}}, [](V x) { return x[0].slice(1, 0, 20, 2) * x[1]; }},
      {"div_broadcast_both", {{5, 1, 3}, {1, 4, 3}}, [](V x) { return x[0] / (x[1] + 3.0); }},
      {"pow", {{33}, {33}}, [](V x) { return pow(abs(x[0]) + 0.5, x[1]); }},
      {"maximum_minimum", {{6, 7}, {7}}, [](V x) { return maximum(x[0], x[1]) + minimum(x[0], x[1]) * 2.0; }},
      {"where_compare", {{4, 9}, {4, 9}}, [](V x) { return where(x[0] > x[1], x[0], x[1] * 3.0); }},
      {"comparisons", {{100}, {100}}, [](V x) {  // relu makes exact ties (both 0) common
         Tensor a = relu(x[0]), b = relu(x[1]);
         return (a == b).to(DType::f32) + (a < b).to(DType::f32) * 2.0 + (a >= b).to(DType::f32) * 4.0 +
                (a != b).to(DType::f32) * 8.0 + (a <= b).to(DType::f32) * 16.0 + (a > b).to(DType::f32) * 32.0;
       }, 1e-6, false},
      {"unary_math", {{1031}}, [](V x) {
         Tensor p = abs(x[0]) + 0.1;
         return exp(x[0]) + log(p) + sqrt(p) + rsqrt(p) + square(x[0]) + sign(x[0]) + clamp(x[0], -0.5, 0.7) - x[0];
       }},
      {"activations", {{17, 65}}, [](V x) {
         Tensor y = x[0] * 3.0;
         return relu(y) + leaky_relu(y, 0.1) + elu(y) + selu(y) + sigmoid(y) + tanh(y) + gelu(y) + softplus(y) + silu(y);
       }},
      {"activations_strided", {{20, 30}}, [](V x) { return gelu(x[0].transpose(0, 1).slice(0, 1, 30, 3)); }},
      {"softmax_rows", {{37, 129}}, [](V x) { return softmax(x[0] * 5.0); }},
      {"softmax_axis0", {{11, 7, 3}}, [](V x) { return softmax(x[0], 0); }},
      {"log_softmax", {{64, 10}}, [](V x) { return log_softmax(x[0] * 10.0); }},
      {"sum_mean", {{5, 6, 7}}, [](V x) { return sum(x[0], {0, 2}) + mean(x[0], {0, 2}); }},
      {"sum_long_rows", {{3, 5000}}, [](V x) { return sum(x[0], {1}) + max(x[0], {1}) + logsumexp(x[0], {1}); }},
      {"sum_transposed", {{31, 17}}, [](V x) { return sum(x[0].transpose(0, 1), {1}, true); }},
      {"max_min", {{9, 33}}, [](V x) { return max(x[0], {1}) - min(x[0], {1}); }},
      {"argmax_argmin", {{9, 33}}, [](V x) {
         return argmax(x[0], 1).to(DType::f32) + argmin(x[0], 0).to(DType::f32).sum();
       }, 1e-6, false},
      {"var_logsumexp", {{8, 12}}, [](V x) { return var(x[0], {1}) + logsumexp(x[0] * 4.0, {1}); }},
      {"matmul_square", {{64, 64}, {64, 64}}, [](V x) { return matmul(x[0], x[1]); }, 1e-4},
      {"matmul_odd", {{7, 13}, {13, 5}}, [](V x) { return matmul(x[0], x[1]); }},
      {"matmul_transposed_a", {{13, 7}, {13, 5}}, [](V x) { return matmul(x[0].transpose(0, 1), x[1]); }},
      {"matmul_transposed_b", {{7, 13}, {5, 13}}, [](V x) { return matmul(x[0], x[1].transpose(0, 1)); }},
      {"matmul_batched_broadcast", {{3, 1, 5, 6}, {4, 6, 7}}, [](V x) { return matmul(x[0], x[1]); }},
      {"matmul_sliced", {{10, 20}, {20, 9}}, [](V x) { return matmul(x[0].slice(1, 0, 20, 2), x[1].slice(0, 0, 20, 2)); }},
      {"linear", {{33, 19}, {19, 11}, {11}}, [](V x) { return linear(x[0], x[1], x[2]); }},
      {"conv2d_lecture", {{2, 12, 12, 32}, {3, 3, 32, 64}, {64}}, [](V x) { return conv2d(x[0], x[1], x[2]); }, 2e-4},
      {"conv2d_first_layer", {{3, 28, 28, 1}, {3, 3, 1, 32}, {32}}, [](V x) { return relu(conv2d(x[0], x[1], x[2])); }},
      // The relu as a oneDNN post-op, on a narrow and on a wide layer.
      {"conv2d_fused_relu_first_layer", {{3, 28, 28, 1}, {3, 3, 1, 32}, {32}}, [](V x) {
         return conv2d(x[0], x[1], x[2], {.relu = true});
       }},
      {"conv2d_fused_relu_lecture", {{2, 12, 12, 32}, {3, 3, 32, 64}, {64}}, [](V x) {
         return conv2d(x[0], x[1], x[2], {.relu = true});
       }, 2e-4},
      {"conv2d_same_stride2", {{2, 9, 7, 5}, {3, 3, 5, 6}}, [](V x) {
         return conv2d(x[0], x[1], {}, {.strides = {2, 2}, .padding = "same"});
       }},
      {"conv2d_explicit_dilation", {{1, 11, 10, 3}, {3, 2, 3, 4}}, [](V x) {
         return conv2d(x[0], x[1], {}, {.padding = "explicit", .pads = {2, 1, 0, 3}, .dilation = {2, 3}});
       }},
      // Receptive fields of >= 64 values: the weight gradient runs as im2col and matmul.
      {"conv2d_wide_same_stride2", {{2, 9, 7, 16}, {3, 3, 16, 8}, {8}}, [](V x) {
         return conv2d(x[0], x[1], x[2], {.strides = {2, 2}, .padding = "same"});
       }, 1e-4},
      {"conv2d_wide_explicit_dilation", {{2, 11, 10, 12}, {3, 2, 12, 5}}, [](V x) {
         return conv2d(x[0], x[1], {}, {.padding = "explicit", .pads = {2, 1, 0, 3}, .dilation = {2, 3}});
       }, 1e-4},
      // 5 x 64 x 64 output pixels: 8 MiB chunks of receptive fields (288 + 1 values) take 7,256 each.
      {"conv2d_wide_several_chunks", {{5, 66, 66, 32}, {3, 3, 32, 4}, {4}}, [](V x) {
         return conv2d(x[0], x[1], x[2]);
       }, 2e-4},
      {"conv2d_groups", {{2, 8, 8, 6}, {3, 3, 2, 9}}, [](V x) { return conv2d(x[0], x[1], {}, {.groups = 3}); }},
      {"conv2d_depthwise_strided_input", {{1, 6, 8, 4}, {3, 3, 1, 4}}, [](V x) {
         return conv2d(x[0].transpose(1, 2), x[1], {}, {.padding = "same", .groups = 4});
       }},
      {"conv_transpose2d_same", {{2, 5, 5, 3}, {3, 3, 4, 3}, {4}}, [](V x) {
         return conv_transpose2d(x[0], x[1], x[2], {.strides = {2, 2}, .padding = "same"});
       }},
      {"conv_transpose2d_output_padding", {{1, 4, 3, 4}, {3, 2, 3, 4}}, [](V x) {
         return conv_transpose2d(x[0], x[1], {}, {.strides = {3, 2}, .output_padding = {2, 1}});
       }},
      {"max_pool2d", {{3, 26, 26, 7}}, [](V x) { return max_pool2d(x[0]); }},
      {"max_pool2d_same_overlap", {{2, 9, 7, 3}}, [](V x) {
         return max_pool2d(x[0], {.pool_size = {3, 3}, .strides = {2, 2}, .padding = "same"});
       }},
      {"avg_pool2d_same", {{2, 9, 7, 3}}, [](V x) {
         return avg_pool2d(x[0], {.pool_size = {3, 2}, .strides = {2, 1}, .padding = "same"});
       }},
      {"global_avg_pool2d", {{3, 5, 6, 7}}, [](V x) { return global_avg_pool2d(x[0]); }},
      // The moving averages, updated in place, are added to the output so that they are compared too.
      {"batch_norm_train_nhwc", {{4, 5, 6, 8}, {8}, {8}}, [](V x) {
         Tensor mm = zeros({8}, x[0].dtype(), x[0].device()), mv = ones({8}, x[0].dtype(), x[0].device());
         Tensor y = batch_norm(x[0] * 2.0 + 1.0, x[1], x[2], mm, mv, {.momentum = 0.9});
         return y + (mm + mv);
       }},
      {"batch_norm_train_no_affine", {{6, 5, 3}}, [](V x) {
         Tensor mm = zeros({3}, x[0].dtype(), x[0].device()), mv = ones({3}, x[0].dtype(), x[0].device());
         return batch_norm(x[0], {}, {}, mm, mv) + (mm + mv);
       }},
      {"batch_norm_eval", {{3, 7}, {7}, {7}}, [](V x) {
         Tensor mm = full({7}, 0.3, x[0].dtype(), x[0].device()), mv = full({7}, 1.7, x[0].dtype(), x[0].device());
         return batch_norm(x[0], x[1], x[2], mm, mv, {.training = false});
       }},
      {"concat_stack_pad", {{3, 4}, {3, 2}}, [](V x) {
         return stack({concat({x[0], x[1]}, 1), pad(x[0], {{0, 0}, {1, 1}}, 1.0)}, 0);
       }},
      {"index_select_gather", {{10, 6}}, [](V x) {
         const Device d = x[0].device();  // index tensors live with the data
         Tensor rows = index_select(x[0], 0, from_vector<std::int64_t>({9, 0, 3, 3}).to(d));
         return gather(rows, 1, from_vector<std::int64_t>({5, 0, 1, 1, 2, 3, 4, 4}, {4, 2}).to(d));
       }},
      {"softmax_cross_entropy", {{16, 10}, {16, 10}}, [](V x) { return softmax_cross_entropy(x[0] * 4.0, softmax(x[1])); }},
      {"sparse_softmax_cross_entropy", {{6, 4}}, [](V x) {
         return sparse_softmax_cross_entropy(x[0] * 4.0,
                                             from_vector<std::int64_t>({0, 3, 1, 1, 2, 0}).to(x[0].device()));
       }},
      {"mse_bce", {{8, 3}, {8, 3}}, [](V x) {
         return mse(x[0], x[1]) + binary_cross_entropy(sigmoid(x[0]), sigmoid(x[1])) +
                binary_cross_entropy_with_logits(x[0] * 3.0, sigmoid(x[1]));
       }},
  };
  return c;
}

class Parity : public ::testing::TestWithParam<ParityCase> {};

TEST_P(Parity, CpuMatchesRef) { testing::expect_parity(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Ops, Parity, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return info.param.name; });

// The same table on the GPU. Convolutions run in full FP32 here (TF32 has its
// own test with its own tolerance in cuda_test.cpp).
class CudaParity : public ::testing::TestWithParam<ParityCase> {};

TEST_P(CudaParity, CudaMatchesRef) {
  if (!backend::cuda_available()) GTEST_SKIP() << "no CUDA device";
  testing::Fp32Convolutions fp32;
  testing::expect_parity(GetParam(), Device::cuda());
}

INSTANTIATE_TEST_SUITE_P(Ops, CudaParity, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return info.param.name; });

void random_shapes(Device device) {
  // Sizes drawn from a seeded generator, so odd and prime sizes come up; the
  // seed is in the case name printed on failure.
  Generator g(2024);
  for (int round = 0; round < 6; ++round) {
    std::int64_t m = 1 + static_cast<std::int64_t>(g.next_below(40));
    std::int64_t k = 1 + static_cast<std::int64_t>(g.next_below(40));
    std::int64_t n = 1 + static_cast<std::int64_t>(g.next_below(40));
    using V = const std::vector<Tensor>&;
    testing::expect_parity({"random_matmul_tanh(seed 2024, round " + std::to_string(round) + ")",
                            {{m, k}, {k, n}, {n}},
                            [](V x) { return tanh(matmul(x[0], x[1]) + x[2]); }},
                           device);
    testing::expect_parity({"random_broadcast_mul(seed 2024, round " + std::to_string(round) + ")",
                            {{m, 1, n}, {k, 1}},
                            [](V x) { return sigmoid(x[0] * x[1]); }},
                           device);
  }
}

TEST(ParityRandomShapes, ElementwiseAndMatmulOverDrawnSizes) { random_shapes(Device::cpu()); }

TEST(ParityRandomShapes, CudaElementwiseAndMatmulOverDrawnSizes) {
  if (!backend::cuda_available()) GTEST_SKIP() << "no CUDA device";
  random_shapes(Device::cuda());
}

}  // namespace
}  // namespace cortex
