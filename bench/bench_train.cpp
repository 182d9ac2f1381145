// Cortex's side of the training and inference benchmarks (bench/gpu_check.sh
// and bench/cpu_train.sh run it beside bench/torch_train.py, whose docstring
// states the shared protocol).
//
// Each training row goes through Model::fit, the path a user takes: batches
// come from host memory through the DataLoader and every step's loss is read
// back (on a GPU one step late, so the device never waits for the host).
// Inference rows run Model::predict over 10,000 images in batches of 1,000.
//
//   bench_train [--device cpu|cuda] [--models lecture,vgg] [--precisions fp32,bf16]
//               [--steps 100] [--warmup 20] [--rounds 5] [--epoch 1] [--infer 0]
//               [--breakdown N] [--threads N] [--profile 0]
// Prints one JSON line per row. --breakdown N adds, per model, a table of
// where N training steps spend their time (cortex/core/profiler.h), to stderr.
// --profile 1 brackets the timed rounds with cudaProfilerStart/Stop for ncu.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cortex/backends/kernels.h"
#include "cortex/core/profiler.h"
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

// The process's peak resident set (VmHWM), in MiB.
double peak_rss_mib() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::atof(line.c_str() + 6) / 1024.0;
  return 0.0;
}

// (x, one-hot y) of n synthetic images drawn with seed 0.
std::pair<Tensor, Tensor> synthetic(const Spec& spec, std::int64_t n) {
  Generator gen(0);
  Shape xs{n};
  xs.insert(xs.end(), spec.input.begin(), spec.input.end());
  Tensor x = rand(xs, gen);
  std::vector<std::int64_t> labels(static_cast<std::size_t>(n));
  for (auto& l : labels) l = static_cast<std::int64_t>(gen.next_below(10));
  return {x, data::to_categorical(from_vector(labels), 10)};
}

}  // namespace

int main(int argc, char** argv) try {
  // As the cortex command does, so the figures are what its users get.
  const std::string omp_wait = adapt_openmp_wait(argv);
  int steps = 100, warmup = 20, rounds = 5, breakdown = 0, threads = 0;
  bool profile = false, epoch = true, infer = false;
  std::string models = "lecture,vgg", device_name = "cuda", precisions = "fp32,bf16";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string opt = argv[i], value = argv[i + 1];
    if (opt == "--steps") steps = std::atoi(value.c_str());
    else if (opt == "--warmup") warmup = std::atoi(value.c_str());
    else if (opt == "--rounds") rounds = std::atoi(value.c_str());
    else if (opt == "--models") models = value;
    else if (opt == "--device") device_name = value;
    else if (opt == "--precisions") precisions = value;
    else if (opt == "--profile") profile = std::atoi(value.c_str()) != 0;
    else if (opt == "--epoch") epoch = std::atoi(value.c_str()) != 0;
    else if (opt == "--infer") infer = std::atoi(value.c_str()) != 0;
    else if (opt == "--breakdown") breakdown = std::atoi(value.c_str());
    else if (opt == "--threads") threads = std::atoi(value.c_str());
    else {
      std::fprintf(stderr, "bench_train: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (threads > 0) set_num_threads(threads);
  if (device_name != "cpu" && device_name != "cuda") {
    std::fprintf(stderr, "bench_train: --device expects cpu or cuda, got %s\n", device_name.c_str());
    return 2;
  }
  const Device device = device_name == "cpu" ? Device::cpu() : Device::cuda();
  std::stringstream list(models);
  for (std::string name; std::getline(list, name, ',');) {
    std::stringstream plist(precisions);
    for (std::string precision; std::getline(plist, precision, ',');) {
      const Spec spec = name == "lecture" ? Spec{"lecture", {28, 28, 1}, 128} : Spec{"vgg", {32, 32, 3}, 256};
      auto model = make(name);
      model->to(device);
      // Enough images that no epoch runs short of the steps asked for (the same count as
      // torch_train.py holds, so that peak RSS compares): 60,000 when an epoch is timed.
      const std::int64_t n = name == "lecture" && epoch
                                 ? 60000
                                 : std::max<std::int64_t>(spec.batch * std::max({steps, warmup, breakdown}),
                                                          infer ? 10000 : 0);
      const auto [x, y] = synthetic(spec, n);
      auto fit = [&](std::int64_t max_steps) {
        model->fit(x, y, {.batch_size = spec.batch, .epochs = 1, .verbose = 0, .shuffle = false,
                          .max_steps = max_steps, .precision = precision});
      };
      const auto started = std::chrono::steady_clock::now();
      fit(1);
      const double first_step_s = seconds_since(started);  // build, first allocations, primitive creation
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
                  "\"images_per_s\": %.1f, \"min\": %.1f, \"max\": %.1f, \"first_step_s\": %.3f, \"omp_wait\": \"%s\"",
                  name.c_str(), precision.c_str(), device.str().c_str(), ips[ips.size() / 2], ips.front(), ips.back(),
                  first_step_s, omp_wait.c_str());
      if (name == "lecture" && epoch && !profile) {  // one pass over 60,000 images, the last batch short
        const auto t0 = std::chrono::steady_clock::now();
        fit(0);
        std::printf(", \"epoch_s\": %.3f", seconds_since(t0));
      }
      if (infer) {  // predict over 10,000 images, batches of 1,000, after one untimed batch
        const Tensor xi = x.slice(0, 0, 10000);
        model->predict(xi.slice(0, 0, 1000), 1000);
        std::vector<double> rates;
        for (int r = 0; r < rounds; ++r) {
          const auto t0 = std::chrono::steady_clock::now();
          model->predict(xi, 1000);
          rates.push_back(10000.0 / seconds_since(t0));
        }
        std::sort(rates.begin(), rates.end());
        std::printf(", \"infer_images_per_s\": %.1f, \"infer_min\": %.1f, \"infer_max\": %.1f", rates[rates.size() / 2],
                    rates.front(), rates.back());
      }
      if (breakdown > 0) {
        profiler::reset();
        profiler::enable(true);
        fit(breakdown);
        profiler::enable(false);
        std::fprintf(stderr, "\n%s %s on %s: where a training step's time goes (%d steps)\n%s", name.c_str(),
                     precision.c_str(), device.str().c_str(), breakdown, profiler::table(breakdown).c_str());
      }
      std::printf(", \"peak_rss_mib\": %.0f}\n", peak_rss_mib());
      std::fflush(stdout);
    }
  }
  return 0;
} catch (const cortex::Error& e) {
  std::fprintf(stderr, "bench_train: %s\n", e.what());
  return 1;
}
