// A program outside Cortex's tree that uses the installed library: a small
// network learns which points of the square [-1, 1]^2 lie inside a circle.
//
//   cmake -S . -B build -DCMAKE_PREFIX_PATH=/where/cortex/is/installed && cmake --build build && build/circle
#include <cortex/cortex.h>

#include <cstdio>

using namespace cortex;
using namespace cortex::nn;

int main() {
  Generator gen(0);
  // x: (2000, 2) points, y: (2000, 1) 1 inside the circle of radius 0.7, else 0.
  Tensor x = uniform({2000, 2}, -1.0, 1.0, gen);
  Tensor y = lt(sum(square(x), {1}, /*keepdims=*/true), full({1}, 0.49)).to(DType::f32);

  train::Sequential model({
      Input({2}),
      Dense({.units = 32, .activation = "relu"}),
      Dense({.units = 32, .activation = "relu"}),
      Dense({.units = 1, .activation = "sigmoid"}),
  });
  model.compile({.loss = "binary_crossentropy",
                 .optimizer = std::make_shared<optim::Adam>(1e-2),
                 .metrics = {"accuracy"}});
  model.fit(x.slice(0, 0, 1600), y.slice(0, 0, 1600), {.batch_size = 32, .epochs = 15, .verbose = 0});

  train::Logs score = model.evaluate(x.slice(0, 1600, 2000), y.slice(0, 1600, 2000));
  std::printf("Test loss: %.4f\nTest accuracy: %.4f\n", score["loss"], score["accuracy"]);
  // A circle needs the hidden layers: a linear model stays near 62 %, the share of points outside.
  return score["accuracy"] > 0.9 ? 0 : 1;
}
