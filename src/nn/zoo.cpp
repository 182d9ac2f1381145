// The course's ready-made networks (see zoo.h).
#include "cortex/nn/zoo.h"

#include "cortex/nn/layers.h"

namespace cortex::nn::zoo {

Sequential lecture_cnn() {
  return Sequential({
      Input({28, 28, 1}),
      Conv2D({.filters = 32, .kernel_size = {3, 3}, .activation = "relu"}),
      Conv2D({.filters = 64, .kernel_size = {3, 3}, .activation = "relu"}),
      MaxPooling2D({.pool_size = {2, 2}}),
      Dropout(0.25),
      Flatten(),
      Dense({.units = 128, .activation = "relu"}),
      Dropout(0.5),
      Dense({.units = 10, .activation = "softmax"}),
  });
}

Sequential mlp() {
  return Sequential({
      Input({28, 28, 1}),
      Flatten(),
      Dense({.units = 512, .activation = "relu"}),
      Dropout(0.2),
      Dense({.units = 10, .activation = "softmax"}),
  });
}

Sequential vgg_small(std::int64_t classes) {
  Sequential net({Input({32, 32, 3})});
  for (std::int64_t width : {64, 128, 256}) {
    for (int k = 0; k < 2; ++k)
      net.add(Conv2D({.filters = width, .kernel_size = {3, 3}, .padding = "same", .activation = "relu"}));
    net.add(MaxPooling2D({.pool_size = {2, 2}}));
  }
  net.add(Flatten());
  net.add(Dense({.units = 512, .activation = "relu"}));
  net.add(Dense({.units = classes, .activation = "softmax"}));
  return net;
}

}  // namespace cortex::nn::zoo
