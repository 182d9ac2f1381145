// Cortex's side of the GPU benchmark (bench/gpu_check.sh runs it beside
// bench/torch_gpu.py, whose docstring states the shared protocol).
//
// Each row trains through Model::fit, the path a user takes: batches come
// from host memory through the DataLoader, and every step reads the loss
// back (fit reports it), so Cortex pays a synchronisation per step that the
// PyTorch loop does not.
//
//   bench_gpu [--steps 100] [--warmup 20] [--rounds 5] [--models lecture,vgg] [--device cuda]
// Prints one JSON line per row.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "cortex/backends/kernels.h"
#include "cortex/train/train.h"

using namespace cortex;
using namespace cortex::nn;

namespace {

struct Spec {
  std::string name;
  Shape input;
  std::int64_t batch;
};

std::shared_ptr<train::Model> make(const std::string& name) {
  if (name == "lecture") {
    auto m = std::make_shared<train::Model>(std::make_shared<nn::Sequential>(zoo::lecture_cnn()));
    m->compile({.loss = "categorical_crossentropy", .optimizer = std::make_shared<optim::Adadelta>()});
    return m;
  }
  auto m = std::make_shared<train::Model>(std::make_shared<nn::Sequential>(zoo::vgg_small()));
  m->compile({.loss = "categorical_crossentropy",
              .optimizer = std::make_shared<optim::SGD>(optim::SGDOptions{.learning_rate = 0.01, .momentum = 0.9})});
  return m;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) try {
  int steps = 100, warmup = 20, rounds = 5;
  bool profile = false;  // capture only the timed rounds for `ncu --profile-from-start off`
  std::string models = "lecture,vgg", device_name = "cuda", precisions = "fp32,bf16";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--steps")) steps = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--warmup")) warmup = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--rounds")) rounds = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--models")) models = argv[i + 1];
    else if (!std::strcmp(argv[i], "--device")) device_name = argv[i + 1];
    else if (!std::strcmp(argv[i], "--precisions")) precisions = argv[i + 1];
    else if (!std::strcmp(argv[i], "--profile")) profile = std::atoi(argv[i + 1]) != 0;
    else {
      std::fprintf(stderr, "bench_gpu: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  const Device device = device_name == "cpu" ? Device::cpu() : Device::cuda();
  std::stringstream list(models);
  for (std::string name; std::getline(list, name, ',');) {
    std::stringstream plist(precisions);
    for (std::string precision; std::getline(plist, precision, ',');) {
      const Spec spec = name == "lecture" ? Spec{"lecture", {28, 28, 1}, 128} : Spec{"vgg", {32, 32, 3}, 256};
      auto model = make(name);
      model->to(device);
      // Enough images that no epoch runs short of the steps asked for.
      const std::int64_t n = name == "lecture" ? 60000 : spec.batch * std::max(steps, warmup);
      Generator gen(0);
      Shape xs{n};
      xs.insert(xs.end(), spec.input.begin(), spec.input.end());
      const Tensor x = rand(xs, gen);
      std::vector<std::int64_t> labels(static_cast<std::size_t>(n));
      for (auto& l : labels) l = static_cast<std::int64_t>(gen.next_below(10));
      const Tensor y = data::to_categorical(from_vector(labels), 10);
      auto fit = [&](std::int64_t max_steps) {
        model->fit(x, y, {.batch_size = spec.batch, .epochs = 1, .verbose = 0, .shuffle = false,
                          .max_steps = max_steps, .precision = precision});
      };
      fit(warmup);
      std::vector<double> ips;
      if (profile) backend::cuda_profiler(true);
      for (int r = 0; r < rounds; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        fit(steps);
        ips.push_back(static_cast<double>(steps * spec.batch) / seconds_since(t0));
      }
      if (profile) backend::cuda_profiler(false);
      std::sort(ips.begin(), ips.end());
      std::printf("{\"side\": \"cortex\", \"model\": \"%s\", \"precision\": \"%s\", \"device\": \"%s\", "
                  "\"images_per_s\": %.1f, \"min\": %.1f, \"max\": %.1f",
                  name.c_str(), precision.c_str(), device.str().c_str(), ips[ips.size() / 2], ips.front(), ips.back());
      if (name == "lecture" && !profile) {  // one pass over 60,000 images, the last batch short
        const auto t0 = std::chrono::steady_clock::now();
        fit(0);
        std::printf(", \"epoch_s\": %.3f", seconds_since(t0));
      }
      std::printf("}\n");
      std::fflush(stdout);
    }
  }
  return 0;
} catch (const cortex::Error& e) {
  std::fprintf(stderr, "bench_gpu: %s\n", e.what());
  return 1;
}
