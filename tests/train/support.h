// A tiny model and data set for the train tests: 4 features, 3 classes.
#pragma once

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include <unistd.h>

#include "cortex/train/train.h"

namespace cortex::train::testing {

inline std::unique_ptr<Model> tiny_model(std::uint64_t seed = 0, double rate = 0.3) {
  using namespace cortex::nn;
  auto m = std::make_unique<Sequential>(std::initializer_list<Layer>{Input({4}), Dense({.units = 16, .activation = "relu"}),
                                                                     Dropout(rate), Dense({.units = 3, .activation = "softmax"})},
                                        seed);
  m->compile({.loss = "categorical_crossentropy", .optimizer = std::make_shared<optim::Adam>(), .metrics = {"accuracy"}});
  return m;
}

// x: (n, 4), y: one-hot (n, 3) of a rule the model can learn.
inline std::pair<Tensor, Tensor> tiny_data(std::int64_t n, std::uint64_t seed = 1) {
  Generator g(seed);
  Tensor x = randn({n, 4}, g);
  Tensor labels = argmax(x.slice(1, 0, 3), 1);
  return {x, data::to_categorical(labels, 3)};
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline std::string temp_path(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("cortex_train_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

}  // namespace cortex::train::testing
