// A two-layer network trained with autograd and plain SGD on generated data:
// three interleaved spirals, the classic "a linear model cannot do this" set.
//
//   build/cpu/examples/two_layer_net [--steps N]
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "cortex/cortex.h"

using namespace cortex;

int main(int argc, char** argv) {
  int steps = 300;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--steps") == 0) steps = std::atoi(argv[i + 1]);
  if (steps < 1) {
    std::fprintf(stderr, "two_layer_net: --steps expects a positive number\n");
    return 2;
  }

  // x: (300, 2) points on 3 spirals, y: (300) their spiral's index.
  const int per_class = 100, classes = 3;
  Generator gen(0);
  std::vector<float> points;
  std::vector<std::int64_t> labels;
  for (int c = 0; c < classes; ++c)
    for (int i = 0; i < per_class; ++i) {
      double r = static_cast<double>(i) / per_class;
      double t = c * 4.0 + 4.0 * r + 0.2 * (gen.next_uniform() - 0.5) * 2;
      points.push_back(static_cast<float>(r * std::sin(t)));
      points.push_back(static_cast<float>(r * std::cos(t)));
      labels.push_back(c);
    }
  Tensor x = from_vector(points, {per_class * classes, 2});
  Tensor y = from_vector(labels);

  // Two layers: 2 -> 64 (relu) -> 3, He-style initialisation.
  Tensor w1 = (randn({2, 64}, gen) * std::sqrt(2.0 / 2)).set_requires_grad(true);
  Tensor b1 = zeros({64}).set_requires_grad(true);
  Tensor w2 = (randn({64, 3}, gen) * std::sqrt(2.0 / 64)).set_requires_grad(true);
  Tensor b2 = zeros({3}).set_requires_grad(true);
  std::vector<Tensor> params{w1, b1, w2, b2};
  const double lr = 1.0;

  std::printf("Training a 2-64-3 network on 300 spiral points (%d steps, SGD lr %.1f)\n", steps, lr);
  for (int step = 0; step <= steps; ++step) {
    Tensor logits = linear(relu(linear(x, w1, b1)), w2, b2);
    Tensor loss = sparse_softmax_cross_entropy(logits, y);
    for (auto& p : params) p.zero_grad();
    loss.backward();
    {
      NoGradGuard no_grad;
      for (auto& p : params) p.copy_(p - p.grad() * lr);
    }
    if (step % 50 == 0) {
      NoGradGuard no_grad;
      double acc = mean(eq(argmax(logits, 1), y).to(DType::f32)).item();
      std::printf("step %4d  loss %.4f  accuracy %.3f\n", step, loss.item(), acc);
    }
  }
  return 0;
}
