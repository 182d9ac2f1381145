// Initialisers, regularisers and activations by Keras name.
#include "cortex/nn/init.h"

#include <cmath>
#include <vector>

#include "cortex/ops/activation.h"
#include "cortex/ops/creation.h"
#include "cortex/ops/elementwise.h"
#include "cortex/ops/reduce.h"

namespace cortex::nn {
namespace {

std::pair<double, double> fans(const Shape& s) {
  if (s.empty()) return {1, 1};
  if (s.size() == 1) return {static_cast<double>(s[0]), static_cast<double>(s[0])};
  double receptive = 1;
  for (std::size_t i = 0; i + 2 < s.size(); ++i) receptive *= static_cast<double>(s[i]);
  return {s[s.size() - 2] * receptive, s.back() * receptive};
}

// Normal(0, stddev) truncated to two standard deviations, as Keras draws it
// (stddev is divided by .8796..., the std of a unit normal truncated at 2).
Tensor truncated_normal(const Shape& shape, double stddev, Generator& gen) {
  Tensor z = randn(shape, gen, DType::f64);
  double* p = z.data<double>();
  for (std::int64_t i = 0; i < z.numel(); ++i)
    while (std::fabs(p[i]) > 2.0) p[i] = randn({1}, gen, DType::f64).item();
  return z * (stddev / .87962566103423978);
}

// Keras's Orthogonal: QR of a normal (rows, cols) matrix, rows = prod(shape[:-1]).
Tensor orthogonal(const Shape& shape, Generator& gen) {
  std::int64_t cols = shape.empty() ? 1 : shape.back(), rows = numel(shape) / std::max<std::int64_t>(cols, 1);
  bool flip = rows < cols;  // orthonormalise the longer side's vectors
  std::int64_t n = flip ? rows : cols, len = flip ? cols : rows;
  std::vector<double> a = randn({n, len}, gen, DType::f64).to_vector<double>();
  for (std::int64_t i = 0; i < n; ++i) {  // modified Gram-Schmidt on the n vectors
    double* v = &a[i * len];
    for (std::int64_t j = 0; j < i; ++j) {
      const double* u = &a[j * len];
      double d = 0;
      for (std::int64_t k = 0; k < len; ++k) d += u[k] * v[k];
      for (std::int64_t k = 0; k < len; ++k) v[k] -= d * u[k];
    }
    double norm = 0;
    for (std::int64_t k = 0; k < len; ++k) norm += v[k] * v[k];
    norm = std::sqrt(norm);
    for (std::int64_t k = 0; k < len; ++k) v[k] /= norm;
  }
  Tensor q = from_vector(a, {n, len});
  return (flip ? q : q.transpose(0, 1)).contiguous().reshape(shape);
}

const char* kNames = "glorot_uniform, glorot_normal, he_uniform, he_normal, lecun_uniform, lecun_normal, "
                     "orthogonal, uniform (U(-0.05, 0.05), Keras's RandomUniform), zeros, ones, constant:<value>";

}  // namespace

void check_initializer(const std::string& name, const std::string& layer) {
  static const std::vector<std::string> known = {"glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
                                                 "lecun_uniform", "lecun_normal", "orthogonal", "uniform", "zeros",
                                                 "ones"};
  if (name.rfind("constant:", 0) == 0) return;
  for (const auto& k : known)
    if (k == name) return;
  fail<ValueError>(layer, ": unknown initializer '", name, "'; expected one of ", kNames);
}

Tensor initialize(const std::string& name, const Shape& shape, Generator& gen, DType dtype) {
  check_initializer(name, "initialize");
  auto [fan_in, fan_out] = fans(shape);
  Tensor t;
  if (name == "glorot_uniform") {
    double limit = std::sqrt(6.0 / (fan_in + fan_out));
    t = uniform(shape, -limit, limit, gen, DType::f64);
  } else if (name == "glorot_normal") {
    t = truncated_normal(shape, std::sqrt(2.0 / (fan_in + fan_out)), gen);
  } else if (name == "he_uniform") {
    double limit = std::sqrt(6.0 / fan_in);
    t = uniform(shape, -limit, limit, gen, DType::f64);
  } else if (name == "he_normal") {
    t = truncated_normal(shape, std::sqrt(2.0 / fan_in), gen);
  } else if (name == "lecun_uniform") {
    double limit = std::sqrt(3.0 / fan_in);
    t = uniform(shape, -limit, limit, gen, DType::f64);
  } else if (name == "lecun_normal") {
    t = truncated_normal(shape, std::sqrt(1.0 / fan_in), gen);
  } else if (name == "orthogonal") {
    t = orthogonal(shape, gen);
  } else if (name == "uniform") {
    t = uniform(shape, -0.05, 0.05, gen, DType::f64);
  } else if (name == "zeros") {
    t = zeros(shape, DType::f64);
  } else if (name == "ones") {
    t = ones(shape, DType::f64);
  } else {
    std::string v = name.substr(9);
    char* end = nullptr;
    double value = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0') fail<ValueError>("constant initializer expects a number, got '", v, "'");
    t = full(shape, value, DType::f64);
  }
  return t.to(dtype).contiguous();
}

Tensor penalty(const Regularizer& r, const Tensor& w) {
  Tensor total;
  if (r.l1 != 0.0) total = sum(abs(w)) * r.l1;
  if (r.l2 != 0.0) {
    Tensor l2 = sum(square(w)) * r.l2;
    total = total.defined() ? total + l2 : l2;
  }
  return total;
}

void check_activation(const std::string& name, const std::string& layer) {
  static const std::vector<std::string> known = {"",     "linear",   "relu",  "sigmoid", "tanh",
                                                 "softmax", "log_softmax", "elu", "selu", "gelu",
                                                 "softplus", "swish", "silu", "leaky_relu"};
  for (const auto& k : known)
    if (k == name) return;
  fail<ValueError>(layer, ": unknown activation '", name,
                   "'; expected linear, relu, sigmoid, tanh, softmax, log_softmax, elu, selu, gelu, softplus, "
                   "swish, silu or leaky_relu");
}

Tensor activate(const std::string& name, const Tensor& x) {
  if (name.empty() || name == "linear") return x;
  if (name == "relu") return relu(x);
  if (name == "sigmoid") return sigmoid(x);
  if (name == "tanh") return tanh(x);
  if (name == "softmax") return softmax(x, -1);
  if (name == "log_softmax") return log_softmax(x, -1);
  if (name == "elu") return elu(x);
  if (name == "selu") return selu(x);
  if (name == "gelu") return gelu(x);
  if (name == "softplus") return softplus(x);
  if (name == "swish" || name == "silu") return silu(x);
  if (name == "leaky_relu") return leaky_relu(x, 0.2);  // Keras's LeakyReLU default slope
  check_activation(name, "activate");
  return x;
}

}  // namespace cortex::nn
