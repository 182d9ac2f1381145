// What the layer and recurrent golden tests share: the case names in
// tests/goldens and reading a tensor from a golden file.
#pragma once

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cortex/ops/creation.h"

namespace cortex::testing {

// The names of tests/goldens/<prefix><name>.json, sorted.
inline std::vector<std::string> golden_names(const std::string& prefix) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(CORTEX_GOLDENS_DIR)) {
    const std::string file = entry.path().filename().string();
    if (file.rfind(prefix, 0) == 0 && entry.path().extension() == ".json")
      names.push_back(file.substr(prefix.size(), file.size() - prefix.size() - 5));
  }
  std::sort(names.begin(), names.end());
  return names;
}

// {"shape": [...], "values": [...]} as an f32 tensor.
inline Tensor tensor_of(const nlohmann::json& t) {
  return from_vector(t["values"].get<std::vector<float>>(), t["shape"].get<Shape>());
}

}  // namespace cortex::testing
