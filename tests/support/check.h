// Test helpers: closeness checks, the finite-difference gradient check
// (f64, ref backend) and the runner of the backend-parity table.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "cortex/backends/kernels.h"
#include "cortex/ops/ops.h"

namespace cortex::testing {

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

// Every element of `actual` within atol + rtol * |expected|; reports the worst one.
::testing::AssertionResult all_close(const Tensor& actual, const Tensor& expected, double rtol, double atol);

#define EXPECT_ALL_CLOSE(a, b, rtol, atol) EXPECT_TRUE(::cortex::testing::all_close((a), (b), (rtol), (atol)))

// `stmt` throws E (or a subclass) whose message contains `text`.
#define EXPECT_ERROR_CONTAINS(stmt, E, text)                                                      \
  do {                                                                                            \
    try {                                                                                         \
      (void)(stmt);                                                                               \
      ADD_FAILURE() << "expected " #E " from " #stmt;                                             \
    } catch (const E& error_) {                                                                   \
      EXPECT_NE(std::string(error_.what()).find(text), std::string::npos) << error_.what();      \
    }                                                                                             \
  } while (0)

// f64 inputs of `shapes` drawn from U(low, high), requiring grad.
std::vector<Tensor> f64_inputs(const std::vector<Shape>& shapes, std::uint64_t seed, double low = -1.0,
                               double high = 1.0);

// Compares the gradients autograd gives for sum(f(inputs) * r), r random, with
// central differences, on the ref backend in f64.
void expect_gradients(const std::string& name, const Fn& f, std::vector<Tensor> inputs, double eps = 1e-6,
                      double rtol = 1e-5, double atol = 1e-7);

struct ParityCase {
  std::string name;            // printed with the shapes when the case fails
  std::vector<Shape> shapes;   // f32 inputs drawn from N(0, 1)
  Fn fn;
  double tol = 1e-4;           // relative and absolute
  bool backward = true;
  double low = -2.0, high = 2.0;  // uniform input range
};

std::string describe(const ParityCase& c);
inline void PrintTo(const ParityCase& c, std::ostream* out) { *out << describe(c); }

// Runs a case on the ref backend and on `device` (the cpu backend, or CUDA)
// and compares outputs and gradients.
void expect_parity(const ParityCase& c, Device device = Device::cpu());

// Full FP32 convolutions on CUDA while alive (TF32 is the default there).
class Fp32Convolutions {
 public:
  Fp32Convolutions() : previous_(backend::cuda_math().conv_tf32) { backend::cuda_math().conv_tf32 = false; }
  ~Fp32Convolutions() { backend::cuda_math().conv_tf32 = previous_; }
  Fp32Convolutions(const Fp32Convolutions&) = delete;
  Fp32Convolutions& operator=(const Fp32Convolutions&) = delete;

 private:
  bool previous_;
};

}  // namespace cortex::testing
