// Dense and Conv2D: the two layers with kernels, biases and regularisers.
#include <nlohmann/json.hpp>

#include "cortex/autograd/grad_mode.h"
#include "cortex/nn/layers.h"
#include "cortex/ops/conv.h"
#include "cortex/ops/elementwise.h"
#include "cortex/ops/matmul.h"

namespace cortex::nn {
namespace {

Tensor add_penalty(Tensor total, const Regularizer& r, const Tensor& w) {
  if (!r.active() || !w.defined()) return total;
  Tensor p = penalty(r, w);
  return total.defined() ? total + p : p;
}

nlohmann::json reg_json(const Regularizer& r) { return {{"l1", r.l1}, {"l2", r.l2}}; }

}  // namespace

Tensor Activated::call_linear(const Tensor& x) {
  if (!x.defined()) fail<ValueError>(type(), " '", name(), "' got an undefined input tensor");
  check_input(x);
  build(x.shape());
  return forward_linear(x);
}

Dense::Dense(DenseOptions o) : Activated("Dense"), o_(std::move(o)) {
  if (o_.units < 1) fail<ValueError>("Dense expects units >= 1, got ", o_.units);
  check_activation(o_.activation, "Dense");
  check_initializer(o_.kernel_initializer, "Dense");
  check_initializer(o_.bias_initializer, "Dense");
}

void Dense::check_input(const Tensor& x) const {
  if (x.dim() < 2)
    fail<ShapeError>("Dense '", name(), "' expects an input of shape (batch, ..., features), got ",
                     shape_str(x.shape()));
  if (built() && x.shape().back() != kernel_.shape()[0])
    fail<ShapeError>("Dense '", name(), "' was built for ", kernel_.shape()[0], " input features, got shape ",
                     shape_str(x.shape()));
}

void Dense::build_impl(const Shape& s) {
  kernel_ = register_parameter("kernel", initialize(o_.kernel_initializer, {s.back(), o_.units}, generator()));
  if (o_.use_bias) bias_ = register_parameter("bias", initialize(o_.bias_initializer, {o_.units}, generator()));
}

Tensor Dense::forward_linear(const Tensor& x) { return linear(x, kernel_, bias_); }

Tensor Dense::regularization_loss() const {
  return add_penalty(add_penalty(Tensor(), o_.kernel_regularizer, kernel_), o_.bias_regularizer, bias_);
}

std::string Dense::config_json() const {
  return nlohmann::json{{"units", o_.units},
                        {"activation", o_.activation},
                        {"use_bias", o_.use_bias},
                        {"kernel_initializer", o_.kernel_initializer},
                        {"bias_initializer", o_.bias_initializer},
                        {"kernel_regularizer", reg_json(o_.kernel_regularizer)},
                        {"bias_regularizer", reg_json(o_.bias_regularizer)}}
      .dump();
}

Conv2D::Conv2D(Conv2DOptions o) : Activated("Conv2D"), o_(std::move(o)) {
  if (o_.filters < 1) fail<ValueError>("Conv2D expects filters >= 1, got ", o_.filters);
  if (o_.padding != "valid" && o_.padding != "same")
    fail<ValueError>("Conv2D expects padding \"valid\" or \"same\", got \"", o_.padding, "\"");
  check_activation(o_.activation, "Conv2D");
  check_initializer(o_.kernel_initializer, "Conv2D");
  check_initializer(o_.bias_initializer, "Conv2D");
}

void Conv2D::check_input(const Tensor& x) const {
  if (x.dim() != 4)
    fail<ShapeError>("Conv2D '", name(), "' expects a rank-4 NHWC input (batch, height, width, channels), got shape ",
                     shape_str(x.shape()));
  if (built() && x.shape()[3] != kernel_.shape()[2] * o_.groups)
    fail<ShapeError>("Conv2D '", name(), "' was built for ", kernel_.shape()[2] * o_.groups,
                     " input channels, got shape ", shape_str(x.shape()));
}

void Conv2D::build_impl(const Shape& s) {
  if (s[3] % o_.groups != 0 || o_.filters % o_.groups != 0)
    fail<ShapeError>("Conv2D '", name(), "' expects groups (", o_.groups, ") to divide the input channels (", s[3],
                     ") and the filters (", o_.filters, ")");
  Shape ks{o_.kernel_size[0], o_.kernel_size[1], s[3] / o_.groups, o_.filters};
  kernel_ = register_parameter("kernel", initialize(o_.kernel_initializer, ks, generator()));
  if (o_.use_bias) bias_ = register_parameter("bias", initialize(o_.bias_initializer, {o_.filters}, generator()));
}

Tensor Conv2D::forward_linear(const Tensor& x) {
  return conv2d(x, kernel_, bias_,
                {.strides = o_.strides, .padding = o_.padding, .dilation = o_.dilation_rate, .groups = o_.groups});
}

Tensor Conv2D::regularization_loss() const {
  return add_penalty(add_penalty(Tensor(), o_.kernel_regularizer, kernel_), o_.bias_regularizer, bias_);
}

std::string Conv2D::config_json() const {
  return nlohmann::json{{"filters", o_.filters},
                        {"kernel_size", o_.kernel_size},
                        {"strides", o_.strides},
                        {"padding", o_.padding},
                        {"dilation_rate", o_.dilation_rate},
                        {"groups", o_.groups},
                        {"activation", o_.activation},
                        {"use_bias", o_.use_bias},
                        {"kernel_initializer", o_.kernel_initializer},
                        {"bias_initializer", o_.bias_initializer},
                        {"kernel_regularizer", reg_json(o_.kernel_regularizer)},
                        {"bias_regularizer", reg_json(o_.bias_regularizer)}}
      .dump();
}

}  // namespace cortex::nn
