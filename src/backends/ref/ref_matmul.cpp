// Reference batched matmul: the textbook triple loop, accumulated in double.
#include <cstdint>
#include <optional>

#include "backends/ref/ref_common.h"
#include "backends/ref/ref_kernels.h"

namespace cortex::backend::ref {

// a: (B, M, K), b: (B, K, N), any strides (0 for a broadcast batch);
// bias: (N) or null; out: (B, M, N). All one float dtype.
void matmul(const Tensor& a, const Tensor& b, const Tensor* bias, Tensor& out) {
  visit_float(a.dtype(), "matmul", [&](auto tag) {
    using T = decltype(tag);
    const View<const T, 3> av(a, "matmul", "a");
    const View<const T, 3> bv(b, "matmul", "b");
    const View<T, 3> ov(out, "matmul", "out");
    const std::int64_t B = av.size(0), M = av.size(1), K = av.size(2), N = bv.size(2);
    expect_shape(b, {B, K, N}, "matmul", "b");
    expect_shape(out, {B, M, N}, "matmul", "out");
    std::optional<View<const T, 1>> biasv;
    if (bias != nullptr) {
      expect_shape(*bias, {N}, "matmul", "bias");
      biasv.emplace(*bias, "matmul", "bias");
    }
    for (std::int64_t i = 0; i < B; ++i)
      for (std::int64_t m = 0; m < M; ++m)
        for (std::int64_t n = 0; n < N; ++n) {
          double acc = biasv ? static_cast<double>((*biasv)(n)) : 0.0;
          for (std::int64_t k = 0; k < K; ++k)
            acc += static_cast<double>(av(i, m, k)) * static_cast<double>(bv(i, k, n));
          ov(i, m, n) = static_cast<T>(acc);
        }
  });
}

}  // namespace cortex::backend::ref
