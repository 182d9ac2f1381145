// Helpers shared by the `cortex` subcommands.
#include "common.h"

#include "cortex/io/open_file.h"

#include <filesystem>

namespace cortex::cli {

std::shared_ptr<nn::Sequential> network(const std::string& model) {
  if (model == "lecture-cnn") return std::make_shared<nn::Sequential>(nn::zoo::lecture_cnn());
  if (model == "mlp") return std::make_shared<nn::Sequential>(nn::zoo::mlp());
  std::string text, why;
  if (!io::read_regular_file(model, &text, &why))
    fail<ValueError>("--model expects lecture-cnn, mlp or a readable .json file, got '", model, "' (", why, ")");
  return train::sequential_from_json(text);
}

Device parse_device(const std::string& name) {
  if (name == "cpu") return Device::cpu();
  if (name == "cuda") return Device::cuda();
  std::string index = name.rfind("cuda:", 0) == 0 ? name.substr(5) : "";
  if (!index.empty() && index.size() <= 4 && index.find_first_not_of("0123456789") == std::string::npos)
    return Device::cuda(std::stoi(index));
  fail<ValueError>("--device expects cpu, cuda or cuda:N (N a GPU index), got '", name, "'");
}

data::FashionMnist load_data(const std::string& dataset) {
  return dataset == "fashion-mnist" ? data::fashion_mnist() : data::fashion_mnist(dataset);
}

std::unique_ptr<train::Model> load_model(const std::string& path) {
  if (std::filesystem::is_directory(path)) return train::load_model(path + "/model.cortex");
  return train::load_model(path);
}

std::vector<std::string> class_names(std::int64_t k) {
  if (k == 10) {
    const auto& names = data::fashion_mnist_class_names();
    return {names.begin(), names.end()};
  }
  return train::class_names({}, k);
}

}  // namespace cortex::cli
