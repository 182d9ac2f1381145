// Layers without kernels: pooling, dropout, flatten, reshape, activations, batch norm.
#include <nlohmann/json.hpp>

#include "cortex/autograd/grad_mode.h"
#include "cortex/nn/layers.h"
#include "cortex/ops/creation.h"
#include "cortex/ops/elementwise.h"
#include "cortex/ops/norm.h"
#include "cortex/ops/pool.h"
#include "cortex/ops/reduce.h"
#include "cortex/ops/shape_ops.h"

namespace cortex::nn {
namespace {

void check_nhwc(const Module& m, const Tensor& x) {
  if (x.dim() != 4)
    fail<ShapeError>(m.type(), " '", m.name(), "' expects a rank-4 NHWC input (batch, height, width, channels), got shape ",
                     shape_str(x.shape()));
}

std::string pool_json(const Pool2DOptions& o) {
  return nlohmann::json{{"pool_size", o.pool_size}, {"strides", o.strides}, {"padding", o.padding}}.dump();
}

Pool2dOptions pool_options(const Pool2DOptions& o) {
  return {.pool_size = o.pool_size, .strides = o.strides, .padding = o.padding};
}

}  // namespace

MaxPooling2D::MaxPooling2D(Pool2DOptions o) : Module("MaxPooling2D"), o_(o) {}
void MaxPooling2D::check_input(const Tensor& x) const { check_nhwc(*this, x); }
Tensor MaxPooling2D::forward(const Tensor& x) { return max_pool2d(x, pool_options(o_)); }
std::string MaxPooling2D::config_json() const { return pool_json(o_); }

AveragePooling2D::AveragePooling2D(Pool2DOptions o) : Module("AveragePooling2D"), o_(o) {}
void AveragePooling2D::check_input(const Tensor& x) const { check_nhwc(*this, x); }
Tensor AveragePooling2D::forward(const Tensor& x) { return avg_pool2d(x, pool_options(o_)); }
std::string AveragePooling2D::config_json() const { return pool_json(o_); }

void GlobalAveragePooling2D::check_input(const Tensor& x) const { check_nhwc(*this, x); }
Tensor GlobalAveragePooling2D::forward(const Tensor& x) { return global_avg_pool2d(x); }

Dropout::Dropout(double rate) : Module("Dropout"), rate_(rate) {
  if (!(rate >= 0.0 && rate < 1.0)) fail<ValueError>("Dropout expects a rate in [0, 1), got ", rate);
}
Tensor Dropout::forward(const Tensor& x) { return dropout(x, rate_, is_training(), generator()); }
std::string Dropout::config_json() const { return nlohmann::json{{"rate", rate_}}.dump(); }

Tensor Flatten::forward(const Tensor& x) {
  if (x.dim() < 1) fail<ShapeError>("Flatten '", name(), "' expects a batch axis, got a rank-0 tensor");
  return x.dim() == 1 ? x.reshape({x.shape()[0], 1}) : x.flatten(1);
}

Reshape::Reshape(Shape target) : Module("Reshape"), target_(std::move(target)) {}
Tensor Reshape::forward(const Tensor& x) {
  if (x.dim() < 1) fail<ShapeError>("Reshape '", name(), "' expects a batch axis, got a rank-0 tensor");
  Shape s{x.shape()[0]};
  s.insert(s.end(), target_.begin(), target_.end());
  try {
    return x.reshape(s);
  } catch (const ShapeError& e) {
    fail<ShapeError>("Reshape '", name(), "' cannot reshape ", shape_str(x.shape()), " to (batch, ",
                     shape_str(target_).substr(1), ": ", e.what());
  }
}
std::string Reshape::config_json() const { return nlohmann::json{{"target_shape", target_}}.dump(); }

Activation::Activation(std::string name, std::string type) : Activated(std::move(type)), name_(std::move(name)) {
  check_activation(name_, "Activation");
}
std::string Activation::config_json() const { return nlohmann::json{{"activation", name_}}.dump(); }

BatchNormalization::BatchNormalization(BatchNormalizationOptions o) : Module("BatchNormalization"), o_(o) {
  if (!(o_.momentum >= 0.0 && o_.momentum <= 1.0))
    fail<ValueError>("BatchNormalization expects momentum in [0, 1], got ", o_.momentum);
  if (!(o_.epsilon > 0.0)) fail<ValueError>("BatchNormalization expects epsilon > 0, got ", o_.epsilon);
}

void BatchNormalization::check_input(const Tensor& x) const {
  if (x.dim() < 2)
    fail<ShapeError>("BatchNormalization '", name(), "' expects (batch, ..., channels), got ", shape_str(x.shape()));
  if (built() && x.shape().back() != moving_mean_.shape()[0])
    fail<ShapeError>("BatchNormalization '", name(), "' was built for ", moving_mean_.shape()[0], " channels, got shape ",
                     shape_str(x.shape()));
}

void BatchNormalization::build_impl(const Shape& s) {
  if (s.size() < 2)  // build() may be called without an input to check
    fail<ShapeError>("BatchNormalization '", name(), "' expects (batch, ..., channels), got ", shape_str(s));
  std::int64_t c = s.back();
  if (o_.scale) gamma_ = register_parameter("gamma", ones({c}));
  if (o_.center) beta_ = register_parameter("beta", zeros({c}));
  moving_mean_ = register_buffer("moving_mean", zeros({c}));
  moving_var_ = register_buffer("moving_variance", ones({c}));
}

Tensor BatchNormalization::forward(const Tensor& x) {
  return batch_norm(x, gamma_, beta_, moving_mean_, moving_var_,
                    {.training = is_training(), .momentum = o_.momentum, .epsilon = o_.epsilon});
}

std::string BatchNormalization::config_json() const {
  return nlohmann::json{{"momentum", o_.momentum}, {"epsilon", o_.epsilon}, {"center", o_.center}, {"scale", o_.scale}}
      .dump();
}

}  // namespace cortex::nn
