// Dense and Conv2D: the two layers with kernels, biases and regularisers.
#include <nlohmann/json.hpp>

#include <cmath>

#include "cortex/autograd/grad_mode.h"
#include "cortex/nn/layers.h"
#include "cortex/ops/conv.h"
#include "cortex/ops/elementwise.h"
#include "cortex/ops/matmul.h"

namespace cortex::nn {
namespace {

nlohmann::json reg_json(const Regularizer& r) { return {{"l1", r.l1}, {"l2", r.l2}}; }

// Adds the options Dense and Conv2D share (Keras's names) to a layer's config.
template <typename Options>
std::string with_weight_options(nlohmann::json j, const Options& o) {
  j["activation"] = o.activation;
  j["use_bias"] = o.use_bias;
  j["kernel_initializer"] = o.kernel_initializer;
  j["bias_initializer"] = o.bias_initializer;
  j["kernel_regularizer"] = reg_json(o.kernel_regularizer);
  j["bias_regularizer"] = reg_json(o.bias_regularizer);
  return j.dump();
}

}  // namespace

Tensor Activated::call_linear(const Tensor& x) {
  if (!x.defined()) fail<ValueError>(type(), " '", name(), "' got an undefined input tensor");
  check_input(x);
  build(x.shape());
  return forward_linear(x);
}

KernelLayer::KernelLayer(std::string type, Regularizer kernel_regularizer, Regularizer bias_regularizer)
    : Activated(std::move(type)), kernel_reg_(kernel_regularizer), bias_reg_(bias_regularizer) {
  for (const auto& [which, r] : {std::pair{"kernel_regularizer", kernel_reg_}, std::pair{"bias_regularizer", bias_reg_}})
    for (const auto& [name, v] : {std::pair{"l1", r.l1}, std::pair{"l2", r.l2}})
      if (!(v >= 0.0) || !std::isfinite(v))
        fail<ValueError>(Module::type(), " expects a ", which, " with a finite ", name, " >= 0, got ", v);
}

Tensor KernelLayer::regularization_loss() const {
  Tensor total;
  for (auto [r, w] : {std::pair{&kernel_reg_, &kernel_}, std::pair{&bias_reg_, &bias_}}) {
    if (!r->active() || !w->defined()) continue;
    Tensor p = penalty(*r, *w);
    total = total.defined() ? total + p : p;
  }
  return total;
}

void KernelLayer::create_weights(const Shape& kernel_shape, std::int64_t bias_size, const std::string& kernel_init,
                                 const std::string& bias_init, bool use_bias) {
  kernel_ = register_parameter("kernel", initialize(kernel_init, kernel_shape, generator()));
  if (use_bias) bias_ = register_parameter("bias", initialize(bias_init, {bias_size}, generator()));
}

Dense::Dense(DenseOptions o) : KernelLayer("Dense", o.kernel_regularizer, o.bias_regularizer), o_(std::move(o)) {
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
  create_weights({s.back(), o_.units}, o_.units, o_.kernel_initializer, o_.bias_initializer, o_.use_bias);
}

Tensor Dense::forward_linear(const Tensor& x) { return linear(x, kernel_, bias_); }

std::string Dense::config_json() const {
  return with_weight_options({{"units", o_.units}}, o_);
}

Conv2D::Conv2D(Conv2DOptions o)
    : KernelLayer("Conv2D", o.kernel_regularizer, o.bias_regularizer), o_(std::move(o)) {
  if (o_.filters < 1) fail<ValueError>("Conv2D expects filters >= 1, got ", o_.filters);
  if (o_.groups < 1) fail<ValueError>("Conv2D expects groups >= 1, got ", o_.groups);
  for (const auto& [name, pair] : {std::pair{"kernel_size", o_.kernel_size}, std::pair{"strides", o_.strides},
                                   std::pair{"dilation_rate", o_.dilation_rate}})
    if (pair[0] < 1 || pair[1] < 1)
      fail<ValueError>("Conv2D expects ", name, " >= 1, got ", pair[0], "x", pair[1]);
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
  create_weights({o_.kernel_size[0], o_.kernel_size[1], s[3] / o_.groups, o_.filters}, o_.filters,
                 o_.kernel_initializer, o_.bias_initializer, o_.use_bias);
}

Tensor Conv2D::convolve(const Tensor& x, bool relu) {
  return conv2d(x, kernel_, bias_,
                {.strides = o_.strides,
                 .padding = o_.padding,
                 .dilation = o_.dilation_rate,
                 .groups = o_.groups,
                 .relu = relu});
}

Tensor Conv2D::forward_linear(const Tensor& x) { return convolve(x, false); }

Tensor Conv2D::forward(const Tensor& x) {
  return o_.activation == "relu" ? convolve(x, true) : Activated::forward(x);
}

std::string Conv2D::config_json() const {
  return with_weight_options({{"filters", o_.filters},
                              {"kernel_size", o_.kernel_size},
                              {"strides", o_.strides},
                              {"padding", o_.padding},
                              {"dilation_rate", o_.dilation_rate},
                              {"groups", o_.groups}},
                             o_);
}

}  // namespace cortex::nn
