// Fashion-MNIST and general IDX (images, labels) pairs as Datasets of f32 images and i64 labels.
#include "cortex/data/datasets.h"

#include <filesystem>

#include "cortex/data/idx.h"

namespace cortex::data {
namespace {

constexpr const char* kInstall = "apt-get install dataset-fashion-mnist";

// `dir/name.gz`, else `dir/name` uncompressed; empty when neither exists.
std::string find_file(const std::filesystem::path& dir, const std::string& name) {
  std::error_code ec;
  for (const std::string& candidate : {name + ".gz", name}) {
    std::filesystem::path p = dir / candidate;
    if (std::filesystem::is_regular_file(p, ec)) return p.string();
  }
  return {};
}

// images: (N, ...) IDX tensor -> (N, H, W, 1) f32, u8 pixels scaled to [0, 1].
Tensor images_to_x(const Tensor& images) {
  Tensor x = images.dim() == 3 ? images.unsqueeze(-1) : images;
  if (images.dtype() != DType::u8) return x.to(DType::f32);
  Tensor out = Tensor::empty(x.shape(), DType::f32);
  const std::uint8_t* src = images.data<std::uint8_t>();
  float* dst = out.data<float>();
  for (std::int64_t i = 0, n = out.numel(); i < n; ++i) dst[i] = static_cast<float>(src[i]) / 255.0f;
  return out;
}

}  // namespace

Dataset load_idx_dataset(const std::string& images_path, const std::string& labels_path) {
  Tensor images = read_idx(images_path);
  Tensor labels = read_idx(labels_path);
  if (images.dim() < 2)
    fail<ShapeError>("an IDX data set: expected images of rank >= 2 (N, H, W) in '", images_path, "', found shape ",
                     shape_str(images.shape()));
  if (labels.dim() != 1 || !is_integral(labels.dtype()))
    fail<ShapeError>("an IDX data set: expected (N) integer labels in '", labels_path, "', found ",
                     dtype_name(labels.dtype()), " of shape ", shape_str(labels.shape()));
  if (labels.size(0) != images.size(0))
    fail<ShapeError>("an IDX data set: expected as many labels as images, found ", images.size(0), " images in '",
                     images_path, "' and ", labels.size(0), " labels in '", labels_path, "'");
  return {images_to_x(images), labels.to(DType::i64)};
}

FashionMnist fashion_mnist(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    fail("expected the Fashion-MNIST directory ", dir, ", found no such directory; install it with ",
         "`sudo ", kInstall, "` (it puts the IDX files in /usr/share/datasets/fashion-mnist) or pass the directory ",
         "that holds them");
  const char* names[] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                         "t10k-labels-idx1-ubyte"};
  std::string paths[4], missing;
  for (int i = 0; i < 4; ++i) {
    paths[i] = find_file(dir, names[i]);
    if (paths[i].empty())
      missing += (missing.empty() ? "" : ", ") + (std::filesystem::path(dir) / names[i]).string() + ".gz";
  }
  if (!missing.empty())
    fail("expected the four Fashion-MNIST IDX files (.gz or uncompressed) in ", dir, ", found no ",
         missing, "; install them with `sudo ", kInstall, "` or pass a directory that holds them");
  return {load_idx_dataset(paths[0], paths[1]), load_idx_dataset(paths[2], paths[3])};
}

const std::array<std::string, 10>& fashion_mnist_class_names() {
  static const std::array<std::string, 10> names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return names;
}

}  // namespace cortex::data
