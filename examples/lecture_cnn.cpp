// The lecture's Keras program, line for line, in C++: a CNN on Fashion-MNIST.
//
//   build/cpu/examples/lecture_cnn [--epochs N] [--max-steps N]
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "cortex/train/train.h"

using namespace cortex;
using namespace cortex::nn;

int main(int argc, char** argv) try {
  int epochs = 12;
  std::int64_t max_steps = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--epochs") == 0) epochs = std::atoi(argv[i + 1]);
    else if (std::strcmp(argv[i], "--max-steps") == 0) max_steps = std::atoll(argv[i + 1]);
  }
  const int batch_size = 128, num_classes = 10;

  // the data, split between train and test sets
  data::FashionMnist d = data::fashion_mnist();
  Tensor x_train = d.train.x, x_test = d.test.x;  // (N, 28, 28, 1), scaled to [0, 1]
  std::printf("x_train shape: %s\n%lld train samples\n%lld test samples\n", shape_str(x_train.shape()).c_str(),
              static_cast<long long>(x_train.shape()[0]), static_cast<long long>(x_test.shape()[0]));

  // convert class vectors to binary class matrices
  Tensor y_train = data::to_categorical(d.train.y, num_classes);
  Tensor y_test = data::to_categorical(d.test.y, num_classes);

  train::Sequential model({
      Input({28, 28, 1}),
      Conv2D({.filters = 32, .kernel_size = {3, 3}, .activation = "relu"}),
      Conv2D({.filters = 64, .kernel_size = {3, 3}, .activation = "relu"}),
      MaxPooling2D({.pool_size = {2, 2}}),
      Dropout(0.25),
      Flatten(),
      Dense({.units = 128, .activation = "relu"}),
      Dropout(0.5),
      Dense({.units = num_classes, .activation = "softmax"}),
  });

  model.compile({.loss = "categorical_crossentropy",
                 .optimizer = std::make_shared<optim::Adadelta>(),
                 .metrics = {"accuracy"}});

  model.fit(x_train, y_train,
            {.batch_size = batch_size, .epochs = epochs, .verbose = 1,
             .validation_data = std::make_pair(x_test, y_test), .max_steps = max_steps});

  train::Logs score = model.evaluate(x_test, y_test, {.batch_size = batch_size});
  std::printf("Test loss: %.4f\n", score["loss"]);
  std::printf("Test accuracy: %.4f\n", score["accuracy"]);
  return 0;
} catch (const cortex::Error& e) {
  std::fprintf(stderr, "lecture_cnn: %s\n", e.what());
  return 1;
}
