// Cortex side of bench/run.sh: the same cases as bench/torch_ops.py, one JSON
// line each, so the two can be compared run by run.
//   build/cpu/bench/bench_ops --case conv --reps 5 --threads 2
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "cortex/nn/recurrent.h"
#include "cortex/ops/ops.h"

namespace {

constexpr int kWarmup = 2;
constexpr std::int64_t kPeakSizes[] = {1024, 2048, 4096};

struct Args {
  std::vector<std::string> cases;
  int reps = 5;
  int threads = 2;
};

struct Result {
  std::string name;
  std::vector<double> times;  // seconds, one per timed repetition
  double flop = 0;
  std::string extra;  // more JSON members, each written as `, "key": value`

  double median() const {
    std::vector<double> t = times;
    std::sort(t.begin(), t.end());
    const std::size_t m = t.size() / 2;
    return t.size() % 2 == 1 ? t[m] : (t[m - 1] + t[m]) / 2;
  }
  double gflops() const { return flop / median() / 1e9; }
};

// Runs `step` kWarmup times untimed, then `reps` times timed; `before` runs
// untimed ahead of every step.
std::vector<double> timed(int reps, const std::function<void()>& step,
                          const std::function<void()>& before = {}) {
  std::vector<double> times;
  for (int i = 0; i < kWarmup + reps; ++i) {
    if (before) before();
    const auto start = std::chrono::steady_clock::now();
    step();
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    if (i >= kWarmup) times.push_back(elapsed.count());
  }
  return times;
}

std::vector<double> matmul_times(std::int64_t n, int reps, cortex::Generator& gen) {
  cortex::NoGradGuard no_grad;
  cortex::Tensor a = cortex::randn({n, n}, gen);  // (n, n)
  cortex::Tensor b = cortex::randn({n, n}, gen);  // (n, n)
  return timed(reps, [&] { cortex::Tensor c = cortex::matmul(a, b); });
}

Result bench_matmul(int reps, cortex::Generator& gen) {
  const std::int64_t n = 4096;
  return {"matmul", matmul_times(n, reps, gen), 2.0 * n * n * n,
          ", \"shape\": [4096, 4096, 4096]"};
}

// The lecture CNN's second conv layer, forward and backward (data and weights).
Result bench_conv(int reps, cortex::Generator& gen) {
  const std::int64_t n = 128, h = 26, w = 26, c = 32, o = 64, k = 3;
  cortex::Tensor x = cortex::randn({n, h, w, c}, gen);       // (N, H, W, C)
  cortex::Tensor weight = cortex::randn({k, k, c, o}, gen);  // (KH, KW, C, O)
  cortex::Tensor bias = cortex::randn({o}, gen);             // (O)
  for (cortex::Tensor* t : {&x, &weight, &bias}) t->set_requires_grad(true);
  const cortex::Conv2dOptions options{.strides = {1, 1}, .padding = "valid"};

  std::vector<double> times = timed(
      reps,
      [&] {
        cortex::Tensor y = cortex::conv2d(x, weight, bias, options);  // (N, 24, 24, O)
        y.sum().backward();
      },
      [&] {
        x.zero_grad();
        weight.zero_grad();
        bias.zero_grad();
      });
  const std::int64_t oh = h - k + 1, ow = w - k + 1;
  const double forward = 2.0 * n * oh * ow * o * k * k * c;
  return {"conv", std::move(times), 3.0 * forward,
          ", \"input\": [128, 26, 26, 32], \"filters\": 64, \"kernel\": [3, 3]"};
}

// One LSTM layer over a whole sequence, forward and backward (input, weights):
// batch 64, 100 steps, 256 features in, 256 units, f32.
Result bench_lstm(int reps, cortex::Generator& gen) {
  const std::int64_t n = 64, t = 100, f = 256, u = 256;
  cortex::nn::LSTM lstm({.units = u, .return_sequences = true});
  lstm.set_generator(std::make_shared<cortex::Generator>(1));
  cortex::Tensor x = cortex::randn({n, t, f}, gen);  // (N, T, F)
  x.set_requires_grad(true);
  lstm.build(x.shape());
  std::vector<double> times = timed(
      reps,
      [&] {
        cortex::Tensor y = lstm(x);  // (N, T, U)
        y.sum().backward();
      },
      [&] {
        x.zero_grad();
        for (auto& p : lstm.parameters()) p.zero_grad();
      });
  const double forward = 2.0 * n * t * (f + u) * 4 * u;
  return {"lstm", std::move(times), 3.0 * forward, ", \"batch\": 64, \"steps\": 100, \"features\": 256, \"units\": 256"};
}

// The machine's measured matrix-product peak: the best size's result.
Result bench_peak(int reps, cortex::Generator& gen) {
  Result best;
  std::string per_size;
  for (std::int64_t n : kPeakSizes) {
    Result r{"peak", matmul_times(n, reps, gen), 2.0 * n * n * n, ", \"size\": " + std::to_string(n)};
    char entry[64];
    std::snprintf(entry, sizeof entry, "%s\"%lld\": %.6g", per_size.empty() ? "" : ", ",
                  static_cast<long long>(n), r.gflops());
    per_size += entry;
    if (best.times.empty() || r.gflops() > best.gflops()) best = std::move(r);
  }
  best.extra += ", \"per_size_gflops\": {" + per_size + "}";
  return best;
}

void print_json(const Result& r, int threads) {
  std::string times;
  for (double t : r.times) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%s%.9g", times.empty() ? "" : ", ", t);
    times += buf;
  }
  std::printf(
      "{\"case\": \"%s\", \"impl\": \"cortex\", \"median_s\": %.9g, \"times\": [%s], "
      "\"gflops\": %.9g, \"flop\": %.17g%s, \"threads\": %d}\n",
      r.name.c_str(), r.median(), times.c_str(), r.gflops(), r.flop, r.extra.c_str(), threads);
  std::fflush(stdout);
}

[[noreturn]] void usage(const std::string& problem) {
  if (!problem.empty()) std::fprintf(stderr, "bench_ops: %s\n", problem.c_str());
  std::fprintf(stderr,
               "usage: bench_ops [--case matmul|conv|lstm|peak]... [--reps N] [--threads N]\n"
               "  times each case (default: all) after %d warm-ups; prints one JSON line per case\n",
               kWarmup);
  std::exit(problem.empty() ? 0 : 2);
}

int positive_int(const std::string& flag, const std::string& text) {
  try {
    std::size_t used = 0;
    const int v = std::stoi(text, &used);
    if (used == text.size() && v >= 1) return v;
  } catch (const std::exception&) {
  }
  usage(flag + " expects a positive integer, got '" + text + "'");
}

Args parse(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    std::string value;
    if (flag == "-h" || flag == "--help") usage("");
    if (const auto eq = flag.find('='); eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag.resize(eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      usage(flag + " expects a value");
    }
    if (flag == "--case") {
      if (value != "matmul" && value != "conv" && value != "lstm" && value != "peak")
        usage("--case expects matmul, conv, lstm or peak, got '" + value + "'");
      args.cases.push_back(value);
    } else if (flag == "--reps") {
      args.reps = positive_int(flag, value);
    } else if (flag == "--threads") {
      args.threads = positive_int(flag, value);
    } else {
      usage("unknown argument '" + flag + "'");
    }
  }
  if (args.cases.empty()) args.cases = {"matmul", "conv", "lstm", "peak"};
  return args;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse(argc, argv);
  try {
    cortex::set_num_threads(args.threads);
    cortex::Generator gen(0);
    for (const std::string& name : args.cases) {
      const Result r = name == "matmul" ? bench_matmul(args.reps, gen)
                       : name == "conv" ? bench_conv(args.reps, gen)
                       : name == "lstm" ? bench_lstm(args.reps, gen)
                                        : bench_peak(args.reps, gen);
      print_json(r, args.threads);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_ops: %s\n", e.what());
    return 1;
  }
  return 0;
}
