// Making tensors: constants, ranges, host data and seeded random draws.
#pragma once

#include <vector>

#include "cortex/core/generator.h"
#include "cortex/core/tensor.h"

namespace cortex {

Tensor empty(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
Tensor zeros(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
Tensor ones(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
Tensor full(const Shape& shape, double value, DType dtype = DType::f32, Device device = Device::cpu());
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor full_like(const Tensor& t, double value);
Tensor scalar(double value, DType dtype = DType::f32, Device device = Device::cpu());  // 0-d

// [start, end) in steps of `step`; f32 unless dtype says otherwise.
Tensor arange(double start, double end, double step = 1.0, DType dtype = DType::f32);
Tensor arange(double end, DType dtype = DType::f32);
// `steps` evenly spaced values from start to end inclusive.
Tensor linspace(double start, double end, std::int64_t steps, DType dtype = DType::f32);

// Copies host data (row-major) into a new tensor of `shape` (default: 1-D).
template <typename T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape = {});
Tensor tensor(std::initializer_list<float> values, const Shape& shape = {});

// Seeded draws (the same seed gives the same numbers on every thread count).
Tensor rand(const Shape& shape, Generator& gen, DType dtype = DType::f32);   // U[0, 1)
Tensor randn(const Shape& shape, Generator& gen, DType dtype = DType::f32);  // N(0, 1)
Tensor uniform(const Shape& shape, double low, double high, Generator& gen, DType dtype = DType::f32);
Tensor normal(const Shape& shape, double mean, double stddev, Generator& gen, DType dtype = DType::f32);
// 1 with probability p, else 0.
Tensor bernoulli(const Shape& shape, double p, Generator& gen, DType dtype = DType::f32);

}  // namespace cortex
