// Helpers shared by the `cortex` subcommands.
#include "common.h"

#include <cstdio>
#include <cstring>
#include <filesystem>

#include "cortex/io/open_file.h"

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

std::string file_kind(const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (status.type() == std::filesystem::file_type::not_found) return "no such file";
  if (ec) return "";  // unreadable for another reason: the reader below says which
  if (std::filesystem::is_directory(status)) return "a directory";
  std::string why;
  std::FILE* f = io::fopen_regular_file(path, &why);
  if (!f) return "";
  unsigned char head[16] = {};
  const std::size_t n = std::fread(head, 1, sizeof head, f);
  std::fclose(f);
  if (n >= 8 && std::memcmp(head, "\x89PNG\r\n\x1a\n", 8) == 0) return "a PNG image";
  if (n >= 2 && head[0] == 0x1f && head[1] == 0x8b) return "a gzip file";
  // safetensors: an 8-byte little-endian header length, then the JSON header.
  if (n >= 9 && head[8] == '{' && head[7] == 0 && head[6] == 0) return "a model file";
  if (n >= 1 && (head[0] == '{' || head[0] == '[')) return "a JSON file";
  if (n >= 6 && std::memcmp(head, "epoch,", 6) == 0) return "a CSV file";
  return "";
}

std::unique_ptr<train::Model> load_model(const std::string& path, const std::string& usage) {
  const std::string kind = file_kind(path);
  if (kind == "a directory") {
    const std::string inside = path + "/model.cortex";
    if (!std::filesystem::exists(inside))
      fail<ValueError>(path, " is a directory without a model: looked for ", inside, "; usage: ", usage);
    return train::load_model(inside);
  }
  if (kind == "no such file") fail<ValueError>("no such file: ", path, "; usage: ", usage);
  if (kind == "a JSON file")
    fail<ValueError>(path, " is a JSON file, not a model (an architecture trains with cortex train --model ", path,
                     "); usage: ", usage);
  if (!kind.empty() && kind != "a model file")
    fail<ValueError>(path, " is ", kind, ", not a model; usage: ", usage);
  return train::load_model(path);
}

Tensor read_image(const std::string& path, const std::string& usage) {
  const std::string kind = file_kind(path);
  if (kind == "no such file") fail<ValueError>("no such file: ", path, "; usage: ", usage);
  if (kind == "a model file" || kind == "a directory")
    fail<ValueError>(path, " is ", kind, ", not an image; usage: ", usage);
  return io::read_png(path);
}

Tensor image_input(train::Model& model, const std::string& model_path, const std::string& image, bool raw,
                   const std::string& usage) {
  const std::optional<Shape> in = model.input_shape();
  if (!in || in->size() != 3)
    fail<ValueError>(model_path, " takes no images: its input is not (height, width, channels)");
  std::string done;
  Tensor x = io::fit_image(read_image(image, usage), (*in)[0], (*in)[1], (*in)[2],
                           {.keep_aspect = !raw, .dark_background = !raw}, &done);
  if (!done.empty() && !raw) std::fprintf(stderr, "%s: %s (--raw: as it is)\n", image.c_str(), done.c_str());
  return x;
}

std::vector<std::string> class_names(std::int64_t k) {
  if (k == 10) {
    const auto& names = data::fashion_mnist_class_names();
    return {names.begin(), names.end()};
  }
  return train::class_names({}, k);
}

}  // namespace cortex::cli
