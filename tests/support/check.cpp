// Closeness checks, gradient checks and the parity runner.
#include "support/check.h"

#include <cmath>
#include <sstream>

namespace cortex::testing {

::testing::AssertionResult all_close(const Tensor& actual, const Tensor& expected, double rtol, double atol) {
  if (actual.shape() != expected.shape())
    return ::testing::AssertionFailure() << "shape " << shape_str(actual.shape()) << " vs expected "
                                         << shape_str(expected.shape());
  std::vector<double> a = actual.to_vector<double>(), e = expected.to_vector<double>();
  std::size_t worst = 0;
  double worst_excess = 0;
  std::size_t bad = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    bool both_nan = std::isnan(a[i]) && std::isnan(e[i]);
    double diff = std::fabs(a[i] - e[i]);
    double allowed = atol + rtol * std::fabs(e[i]);
    if (!both_nan && !(diff <= allowed)) {
      ++bad;
      double excess = std::isnan(diff) ? INFINITY : diff - allowed;
      if (bad == 1 || excess > worst_excess) { worst = i; worst_excess = excess; }
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << bad << " of " << a.size() << " elements differ; worst at flat index "
                                       << worst << ": " << a[worst] << " vs expected " << e[worst]
                                       << " (rtol " << rtol << ", atol " << atol << ")";
}

std::vector<Tensor> f64_inputs(const std::vector<Shape>& shapes, std::uint64_t seed, double low, double high) {
  Generator gen(seed);
  std::vector<Tensor> out;
  for (const auto& s : shapes) out.push_back(uniform(s, low, high, gen, DType::f64).set_requires_grad(true));
  return out;
}

namespace {
double weighted_sum(const Tensor& y, const Tensor& r) { return sum(y.to(DType::f64) * r).item(); }
}  // namespace

void expect_gradients(const std::string& name, const Fn& f, std::vector<Tensor> inputs, double eps, double rtol,
                      double atol) {
  SCOPED_TRACE("gradient check: " + name);
  backend::BackendScope ref(backend::Backend::Ref);
  for (auto& t : inputs) t.zero_grad();
  Tensor y = f(inputs);
  Generator gen(1234);
  Tensor r = randn(y.shape(), gen, DType::f64);
  sum(y * r).backward();
  NoGradGuard no_grad;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    if (!inputs[k].requires_grad()) continue;
    Tensor analytic = inputs[k].grad();
    ASSERT_TRUE(analytic.defined()) << "input " << k << " got no gradient";
    Tensor numeric = zeros_like(inputs[k]);
    double* x = inputs[k].data<double>();
    double* nx = numeric.data<double>();
    for (std::int64_t i = 0; i < inputs[k].numel(); ++i) {
      double saved = x[i];
      x[i] = saved + eps;
      double plus = weighted_sum(f(inputs), r);
      x[i] = saved - eps;
      double minus = weighted_sum(f(inputs), r);
      x[i] = saved;
      nx[i] = (plus - minus) / (2 * eps);
    }
    EXPECT_TRUE(all_close(analytic, numeric, rtol, atol)) << "input " << k << " of shape "
                                                          << shape_str(inputs[k].shape());
  }
}

std::string describe(const ParityCase& c) {
  std::ostringstream s;
  s << c.name << " with inputs";
  for (const auto& sh : c.shapes) s << ' ' << shape_str(sh);
  return s.str();
}

void expect_parity(const ParityCase& c, Device device) {
  SCOPED_TRACE("parity case: " + describe(c) + " on " + device.str());
  Generator gen(42);
  std::vector<Tensor> base;
  for (const auto& s : c.shapes) base.push_back(uniform(s, c.low, c.high, gen));
  // Results come back to the host, so a missing gradient stays undefined.
  auto host = [](const Tensor& t) { return t.defined() ? t.to(Device::cpu()) : t; };
  auto run = [&](backend::Backend b, Device on) {
    backend::BackendScope scope(b);
    std::vector<Tensor> in;
    for (const auto& t : base) in.push_back(t.clone().to(on).set_requires_grad(c.backward));
    Tensor y = c.fn(in);
    std::vector<Tensor> results{host(y.detach())};
    if (c.backward) {
      Generator wgen(7);
      Tensor r = randn(y.shape(), wgen, y.dtype()).to(on);
      sum(y * r).backward();
      for (const auto& t : in) results.push_back(host(t.grad()));
    }
    return results;
  };
  std::vector<Tensor> expected = run(backend::Backend::Ref, Device::cpu());
  std::vector<Tensor> actual = run(backend::Backend::Cpu, device);
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) {
    std::string what = i == 0 ? std::string("output") : "gradient of input " + std::to_string(i - 1);
    ASSERT_TRUE(actual[i].defined() && expected[i].defined()) << what << " is missing on a backend";
    EXPECT_TRUE(all_close(actual[i], expected[i], c.tol, c.tol)) << what;
  }
}

}  // namespace cortex::testing
