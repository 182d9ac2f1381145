// Keras's layers. Options are aggregates: Dense({.units = 128, .activation = "relu"}).
#pragma once

#include <array>
#include <optional>
#include <string>

#include "cortex/nn/init.h"
#include "cortex/nn/module.h"

namespace cortex::nn {

// Layers whose last step is an activation can run without it, so that a
// softmax output and a cross-entropy loss fuse into one stable op.
class Activated : public Module {
 public:
  using Module::Module;
  virtual const std::string& activation() const = 0;
  Tensor forward(const Tensor& x) override { return activate(activation(), forward_linear(x)); }
  // The layer's output before its activation (builds it if needed).
  Tensor call_linear(const Tensor& x);

 protected:
  virtual Tensor forward_linear(const Tensor& x) = 0;
};

// A layer with a kernel and an optional bias, each with its regulariser.
class KernelLayer : public Activated {
 public:
  Tensor regularization_loss() const override;

 protected:
  // Each regulariser's l1 and l2 must be finite and >= 0 (a negative one rewards growing weights).
  KernelLayer(std::string type, Regularizer kernel_regularizer, Regularizer bias_regularizer);
  // Registers "kernel" of `kernel_shape` and, if use_bias, "bias" of `bias_size`.
  void create_weights(const Shape& kernel_shape, std::int64_t bias_size, const std::string& kernel_init,
                      const std::string& bias_init, bool use_bias);
  Tensor kernel_, bias_;

 private:
  Regularizer kernel_reg_, bias_reg_;
};

struct DenseOptions {
  std::int64_t units = 0;
  std::string activation = "linear";
  bool use_bias = true;
  std::string kernel_initializer = "glorot_uniform";
  std::string bias_initializer = "zeros";
  Regularizer kernel_regularizer{};
  Regularizer bias_regularizer{};
};

// y = activation(x @ kernel + bias). x: (..., in), kernel: (in, units).
class Dense : public KernelLayer {
 public:
  explicit Dense(DenseOptions o);
  const std::string& activation() const override { return o_.activation; }
  const DenseOptions& options() const { return o_; }
  std::string config_json() const override;

 protected:
  bool supports_masking() const override { return true; }
  void build_impl(const Shape& input_shape) override;
  void check_input(const Tensor& x) const override;
  Tensor forward_linear(const Tensor& x) override;

 private:
  DenseOptions o_;
};

struct Conv2DOptions {
  std::int64_t filters = 0;
  std::array<std::int64_t, 2> kernel_size{3, 3};
  std::array<std::int64_t, 2> strides{1, 1};
  std::string padding = "valid";  // or "same"
  std::array<std::int64_t, 2> dilation_rate{1, 1};
  std::int64_t groups = 1;
  std::string activation = "linear";
  bool use_bias = true;
  std::string kernel_initializer = "glorot_uniform";
  std::string bias_initializer = "zeros";
  Regularizer kernel_regularizer{};
  Regularizer bias_regularizer{};
};

// x: (N, H, W, C) -> (N, OH, OW, filters); kernel (KH, KW, C / groups, filters).
class Conv2D : public KernelLayer {
 public:
  explicit Conv2D(Conv2DOptions o);
  const std::string& activation() const override { return o_.activation; }
  const Conv2DOptions& options() const { return o_; }
  std::string config_json() const override;
  // A relu activation runs inside the convolution (conv2d's fused relu).
  Tensor forward(const Tensor& x) override;

 protected:
  void build_impl(const Shape& input_shape) override;
  void check_input(const Tensor& x) const override;
  Tensor forward_linear(const Tensor& x) override;

 private:
  Tensor convolve(const Tensor& x, bool relu);
  Conv2DOptions o_;
};

struct Pool2DOptions {
  std::array<std::int64_t, 2> pool_size{2, 2};
  std::array<std::int64_t, 2> strides{0, 0};  // 0: pool_size (Keras's default)
  std::string padding = "valid";
};

class MaxPooling2D : public Module {
 public:
  explicit MaxPooling2D(Pool2DOptions o = {});
  Tensor forward(const Tensor& x) override;
  std::string config_json() const override;
 protected:
  void check_input(const Tensor& x) const override;
 private:
  Pool2DOptions o_;
};

class AveragePooling2D : public Module {
 public:
  explicit AveragePooling2D(Pool2DOptions o = {});
  Tensor forward(const Tensor& x) override;
  std::string config_json() const override;
 protected:
  void check_input(const Tensor& x) const override;
 private:
  Pool2DOptions o_;
};

// (N, H, W, C) -> (N, C)
class GlobalAveragePooling2D : public Module {
 public:
  GlobalAveragePooling2D() : Module("GlobalAveragePooling2D") {}
  Tensor forward(const Tensor& x) override;
 protected:
  void check_input(const Tensor& x) const override;
};

// Inverted dropout in training, the identity in evaluation.
class Dropout : public Module {
 public:
  explicit Dropout(double rate);
  Tensor forward(const Tensor& x) override;
  std::string config_json() const override;
  double rate() const { return rate_; }
 protected:
  bool supports_masking() const override { return true; }
 private:
  double rate_;
};

// (N, ...) -> (N, prod(...))
class Flatten : public Module {
 public:
  Flatten() : Module("Flatten") {}
  Tensor forward(const Tensor& x) override;
};

// (N, ...) -> (N, target...) ; one -1 allowed.
class Reshape : public Module {
 public:
  explicit Reshape(Shape target);
  Tensor forward(const Tensor& x) override;
  std::string config_json() const override;
 private:
  Shape target_;
};

class Activation : public Activated {
 public:
  explicit Activation(std::string name, std::string type = "Activation");
  const std::string& activation() const override { return name_; }
  std::string config_json() const override;
 protected:
  bool supports_masking() const override { return true; }
  Tensor forward_linear(const Tensor& x) override { return x; }
 private:
  std::string name_;
};

class ReLU : public Activation {
 public:
  ReLU() : Activation("relu", "ReLU") {}
};

class Softmax : public Activation {
 public:
  Softmax() : Activation("softmax", "Softmax") {}
};

struct BatchNormalizationOptions {
  double momentum = 0.99;  // Keras: moving = moving * momentum + batch * (1 - momentum)
  double epsilon = 1e-3;
  bool center = true;
  bool scale = true;
};

// Normalises over every axis but the last (channels): batch statistics in
// training, moving averages in evaluation.
class BatchNormalization : public Module {
 public:
  explicit BatchNormalization(BatchNormalizationOptions o = {});
  Tensor forward(const Tensor& x) override;
  std::string config_json() const override;
 protected:
  bool supports_masking() const override { return true; }
  void build_impl(const Shape& input_shape) override;
  void check_input(const Tensor& x) const override;
 private:
  BatchNormalizationOptions o_;
  Tensor gamma_, beta_, moving_mean_, moving_var_;
};

}  // namespace cortex::nn
