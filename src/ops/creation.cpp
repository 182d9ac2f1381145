// Creation ops: constants and ranges through the fill/copy kernels, random
// draws from the Philox generator on the host.
#include "cortex/ops/creation.h"

#include <cmath>

#include "op_util.h"

namespace cortex {
using detail::alloc;
using detail::kernel;

Tensor empty(const Shape& shape, DType dtype, Device device) { return alloc(shape, dtype, device); }

Tensor full(const Shape& shape, double value, DType dtype, Device device) {
  detail::check_fill_value(value, dtype, "full");
  Tensor t = alloc(shape, dtype, device);
  kernel(&backend::Kernels::fill, device, "full")(t, value);
  return t;
}

Tensor zeros(const Shape& shape, DType dtype, Device device) { return full(shape, 0.0, dtype, device); }
Tensor ones(const Shape& shape, DType dtype, Device device) { return full(shape, 1.0, dtype, device); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.dtype(), t.device()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), t.dtype(), t.device()); }
Tensor full_like(const Tensor& t, double value) { return full(t.shape(), value, t.dtype(), t.device()); }
Tensor scalar(double value, DType dtype, Device device) { return full({}, value, dtype, device); }

namespace {
// Fills a host f64 buffer with f(i), then converts to `dtype`.
template <typename F>
Tensor host_tensor(const Shape& shape, DType dtype, F&& f) {
  Tensor d = Tensor::empty(shape, DType::f64);
  double* p = d.data<double>();
  std::int64_t n = d.numel();
  for (std::int64_t i = 0; i < n; ++i) p[i] = f(i);
  return dtype == DType::f64 ? d : d.to(dtype);
}
}  // namespace

Tensor arange(double start, double end, double step, DType dtype) {
  if (step == 0.0 || !std::isfinite(start) || !std::isfinite(end) || !std::isfinite(step))
    fail<ValueError>("arange expects finite bounds and a non-zero step, got start ", start, ", end ", end,
                     ", step ", step);
  double count = std::ceil((end - start) / step);
  if (count > 1e15) fail<ValueError>("arange would make ", count, " elements (start ", start, ", end ", end, ", step ", step, ")");
  std::int64_t n = std::max<std::int64_t>(0, static_cast<std::int64_t>(count));
  return host_tensor({n}, dtype, [&](std::int64_t i) { return start + step * i; });
}

Tensor arange(double end, DType dtype) { return arange(0.0, end, 1.0, dtype); }

Tensor linspace(double start, double end, std::int64_t steps, DType dtype) {
  if (steps < 0) fail<ValueError>("linspace expects steps >= 0, got ", steps);
  double h = steps > 1 ? (end - start) / static_cast<double>(steps - 1) : 0.0;
  return host_tensor({steps}, dtype,
                     [&](std::int64_t i) { return steps > 1 && i == steps - 1 ? end : start + h * i; });
}

template <typename T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape_in) {
  Shape shape = shape_in.empty() ? Shape{static_cast<std::int64_t>(values.size())} : shape_in;
  if (numel(shape) != static_cast<std::int64_t>(values.size()))
    fail<ShapeError>("from_vector expects ", numel(shape), " values for shape ", shape_str(shape), ", got ",
                     values.size());
  Tensor t = Tensor::empty(shape, dtype_of<T>());
  T* p = t.data<T>();
  for (std::size_t i = 0; i < values.size(); ++i) p[i] = values[i];
  return t;
}
template Tensor from_vector(const std::vector<float>&, const Shape&);
template Tensor from_vector(const std::vector<double>&, const Shape&);
template Tensor from_vector(const std::vector<std::int32_t>&, const Shape&);
template Tensor from_vector(const std::vector<std::int64_t>&, const Shape&);
template Tensor from_vector(const std::vector<std::uint8_t>&, const Shape&);

Tensor tensor(std::initializer_list<float> values, const Shape& shape) {
  return from_vector(std::vector<float>(values), shape);
}

namespace {
// Element i takes word i % 4 of Philox block (first + i / 4): independent of threads.
template <typename F>
Tensor draw(const Shape& shape, Generator& gen, DType dtype, const char* op, F&& f) {
  if (dtype != DType::f32 && dtype != DType::f64)
    fail<DTypeError>(op, " draws f32 or f64 numbers, got dtype ", dtype_name(dtype));
  std::int64_t n = numel(shape);
  std::uint64_t first = gen.reserve(static_cast<std::uint64_t>((n + 3) / 4));
  Tensor d = Tensor::empty(shape, DType::f64);
  double* p = d.data<double>();
#pragma omp parallel for if (n > 65536)
  for (std::int64_t b = 0; b < (n + 3) / 4; ++b) {
    auto words = gen.block(first + static_cast<std::uint64_t>(b));
    for (int k = 0; k < 4 && b * 4 + k < n; ++k) p[b * 4 + k] = f(words, k);
  }
  return dtype == DType::f64 ? d : d.to(dtype);
}
}  // namespace

Tensor uniform(const Shape& shape, double low, double high, Generator& gen, DType dtype) {
  if (!(low <= high)) fail<ValueError>("uniform expects low <= high, got ", low, " and ", high);
  return draw(shape, gen, dtype, "uniform",
              [&](const auto& w, int k) { return low + (high - low) * uniform01(w[k]); });
}

Tensor rand(const Shape& shape, Generator& gen, DType dtype) { return uniform(shape, 0.0, 1.0, gen, dtype); }

Tensor normal(const Shape& shape, double mean, double stddev, Generator& gen, DType dtype) {
  if (!(stddev >= 0)) fail<ValueError>("normal expects stddev >= 0, got ", stddev);
  // Box-Muller on word pairs (0, 1) and (2, 3): cos for even k, sin for odd k.
  return draw(shape, gen, dtype, "normal", [&](const auto& w, int k) {
    int base = k & ~1;
    double u1 = (uniform01(w[base]) * 16777216.0 + 1.0) / 16777217.0;  // (0, 1]
    double u2 = uniform01(w[base + 1]);
    double r = std::sqrt(-2.0 * std::log(u1));
    double z = (k & 1) ? r * std::sin(2 * M_PI * u2) : r * std::cos(2 * M_PI * u2);
    return mean + stddev * z;
  });
}

Tensor randn(const Shape& shape, Generator& gen, DType dtype) { return normal(shape, 0.0, 1.0, gen, dtype); }

Tensor bernoulli(const Shape& shape, double p, Generator& gen, DType dtype) {
  if (!(p >= 0.0 && p <= 1.0)) fail<ValueError>("bernoulli expects a probability in [0, 1], got ", p);
  return draw(shape, gen, dtype, "bernoulli", [&](const auto& w, int k) { return uniform01(w[k]) < p ? 1.0 : 0.0; });
}

}  // namespace cortex
