// Initialisers (Keras's names and fan rules) and weight regularisers.
#pragma once

#include <string>

#include "cortex/core/generator.h"
#include "cortex/core/tensor.h"

namespace cortex::nn {

// A tensor of `shape` drawn by the named initialiser: glorot_uniform (Keras's
// default), glorot_normal, he_uniform, he_normal, lecun_normal, lecun_uniform,
// orthogonal, uniform (Keras's RandomUniform: U(-0.05, 0.05)), zeros, ones, or "constant:<value>". Fans follow Keras: for
// (in, out) and HWIO kernels, fan_in = in * receptive field, fan_out = out * receptive field.
Tensor initialize(const std::string& name, const Shape& shape, Generator& gen, DType dtype = DType::f32);
void check_initializer(const std::string& name, const std::string& layer);

// l1 * sum|w| + l2 * sum(w^2), added to the loss. Keras: L1(0.01), L2(0.01), L1L2.
struct Regularizer {
  double l1 = 0.0;
  double l2 = 0.0;
  bool active() const { return l1 != 0.0 || l2 != 0.0; }
};
inline Regularizer L1(double l1 = 0.01) { return {l1, 0.0}; }
inline Regularizer L2(double l2 = 0.01) { return {0.0, l2}; }
inline Regularizer L1L2(double l1 = 0.01, double l2 = 0.01) { return {l1, l2}; }

Tensor penalty(const Regularizer& r, const Tensor& w);

// y = activation(x) by Keras name: "linear" (or ""), relu, sigmoid, tanh, softmax,
// log_softmax, elu, selu, gelu, softplus, swish / silu, leaky_relu.
Tensor activate(const std::string& name, const Tensor& x);
void check_activation(const std::string& name, const std::string& layer);

}  // namespace cortex::nn
