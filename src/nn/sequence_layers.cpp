// The layers around recurrent ones: Embedding, Masking, RepeatVector,
// TimeDistributed, Bidirectional.
#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "cortex/nn/recurrent.h"
#include "cortex/nn/sequential.h"
#include "cortex/ops/creation.h"
#include "cortex/ops/elementwise.h"
#include "cortex/ops/reduce.h"
#include "cortex/ops/shape_ops.h"

namespace cortex::nn {

// ---- Embedding ----

Embedding::Embedding(EmbeddingOptions o) : Module("Embedding"), o_(std::move(o)) {
  if (o_.input_dim < 1 || o_.output_dim < 1)
    fail<ValueError>("Embedding expects input_dim >= 1 and output_dim >= 1, got ", o_.input_dim, " and ", o_.output_dim);
  check_initializer(o_.embeddings_initializer, "Embedding");
}

std::string Embedding::config_json() const {
  return nlohmann::json{{"input_dim", o_.input_dim},
                        {"output_dim", o_.output_dim},
                        {"embeddings_initializer", o_.embeddings_initializer},
                        {"mask_zero", o_.mask_zero}}
      .dump();
}

void Embedding::build_impl(const Shape&) {
  embeddings_ = register_parameter("embeddings",
                                   initialize(o_.embeddings_initializer, {o_.input_dim, o_.output_dim}, generator()));
}

Tensor Embedding::forward(const Tensor& ids_in) {
  if (ids_in.dim() < 1)
    fail<ShapeError>("Embedding '", name(), "' expects ids with a batch axis (batch, ...), got a rank-0 tensor");
  Tensor ids = ids_in.to(Device::cpu());
  if (is_floating(ids.dtype())) {  // Keras casts; a fraction would be a silent truncation
    for (double v : ids.to(DType::f64).to_vector<double>())
      if (v != std::floor(v))
        fail<ValueError>("Embedding '", name(), "' expects whole-number ids, got ", v);
  } else if (!is_integral(ids.dtype())) {
    fail<DTypeError>("Embedding '", name(), "' expects integer ids, got ", dtype_name(ids.dtype()));
  }
  ids = ids.to(DType::i64).contiguous();
  for (std::int64_t v : ids.to_vector<std::int64_t>())
    if (v < 0 || v >= o_.input_dim)
      fail<IndexError>("Embedding '", name(), "' expects ids in [0, ", o_.input_dim - 1, "] (input_dim ",
                       o_.input_dim, "), got ", v);
  Shape out = ids.shape();
  out.push_back(o_.output_dim);
  return index_select(embeddings_, 0, ids.reshape({-1}).to(embeddings_.device())).reshape(out);
}

Outputs Embedding::call_impl(const Call& c) {
  Outputs out = Module::call_impl(c);
  if (o_.mask_zero) out.masks[0] = ne(c.inputs[0], zeros_like(c.inputs[0]));
  return out;
}

// ---- Masking ----

Masking::Masking(double mask_value) : Module("Masking"), mask_value_(mask_value) {}

std::string Masking::config_json() const { return nlohmann::json{{"mask_value", mask_value_}}.dump(); }

void Masking::check_input(const Tensor& x) const {
  if (x.dim() != 3)
    fail<ShapeError>("Masking '", name(), "' expects a sequence of rank 3 (batch, time, features), got shape ",
                     shape_str(x.shape()));
}

Tensor Masking::forward(const Tensor& x) { return call({.inputs = {x}}).tensors[0]; }

Outputs Masking::call_impl(const Call& c) {
  const Tensor& x = c.inputs[0];
  // A step is real when any feature differs from mask_value.
  Tensor real = gt(sum(ne(x, full_like(x, mask_value_)).to(x.dtype()), {-1}), zeros({1}, x.dtype(), x.device()));
  return {{x * real.unsqueeze(2).to(x.dtype())}, {real}};
}

// ---- RepeatVector ----

RepeatVector::RepeatVector(std::int64_t n) : Module("RepeatVector"), n_(n) {
  if (n < 1) fail<ValueError>("RepeatVector expects n >= 1, got ", n);
}

std::string RepeatVector::config_json() const { return nlohmann::json{{"n", n_}}.dump(); }

void RepeatVector::check_input(const Tensor& x) const {
  if (x.dim() != 2)
    fail<ShapeError>("RepeatVector '", name(), "' expects a rank-2 input (batch, features), got shape ",
                     shape_str(x.shape()));
}

Tensor RepeatVector::forward(const Tensor& x) {
  return x.unsqueeze(1).expand({x.shape()[0], n_, x.shape()[1]}).contiguous();
}

// ---- TimeDistributed ----

TimeDistributed::TimeDistributed(std::shared_ptr<Module> layer) : Activated("TimeDistributed"), layer_(std::move(layer)) {
  if (!layer_) fail<ValueError>("TimeDistributed expects a layer, got null");
  register_module("layer", layer_);
}

const std::string& TimeDistributed::activation() const {
  static const std::string linear = "linear";
  auto* a = dynamic_cast<const Activated*>(layer_.get());
  return a ? a->activation() : linear;
}

std::string TimeDistributed::config_json() const {
  return nlohmann::json{{"layer", {{"class_name", layer_->type()}, {"config", nlohmann::json::parse(layer_->config_json())}}}}
      .dump();
}

void TimeDistributed::check_input(const Tensor& x) const {
  if (x.dim() < 3)
    fail<ShapeError>("TimeDistributed '", name(), "' expects (batch, time, ...) of rank >= 3, got shape ",
                     shape_str(x.shape()));
}

Tensor TimeDistributed::forward_linear(const Tensor& x) {
  const std::int64_t n = x.shape()[0], t = x.shape()[1];
  Shape folded{n * t};
  folded.insert(folded.end(), x.shape().begin() + 2, x.shape().end());
  Tensor xf = x.reshape(folded);
  auto* a = dynamic_cast<Activated*>(layer_.get());
  Tensor y = a ? a->call_linear(xf) : (*layer_)(xf);
  Shape out{n, t};
  out.insert(out.end(), y.shape().begin() + 1, y.shape().end());
  return y.reshape(out);
}

// ---- Bidirectional ----

namespace {
// The layer's twin reading the other way: its config with go_backwards flipped.
std::shared_ptr<Recurrent> mirrored(const Recurrent& layer) {
  nlohmann::json config = nlohmann::json::parse(layer.config_json());
  config["go_backwards"] = !layer.options().go_backwards;
  auto twin = std::dynamic_pointer_cast<Recurrent>(layer_from_config(layer.type(), config.dump()));
  if (!twin) fail<ValueError>("Bidirectional could not mirror ", layer.type(), " '", layer.name(), "'");
  return twin;
}
}  // namespace

Bidirectional::Bidirectional(std::shared_ptr<Recurrent> layer, std::string merge_mode)
    : Module("Bidirectional"), forward_(std::move(layer)), merge_mode_(std::move(merge_mode)) {
  if (!forward_) fail<ValueError>("Bidirectional expects a recurrent layer, got null");
  static const char* modes[] = {"concat", "sum", "mul", "ave", "none"};
  if (std::none_of(std::begin(modes), std::end(modes), [&](const char* m) { return merge_mode_ == m; }))
    fail<ValueError>("Bidirectional expects merge_mode concat, sum, mul, ave or none, got '", merge_mode_, "'");
  backward_ = mirrored(*forward_);
  forward_->set_name("forward_" + forward_->name());
  backward_->set_name("backward_" + backward_->name());
  register_module("forward_layer", forward_);
  register_module("backward_layer", backward_);
}

std::string Bidirectional::config_json() const {
  return nlohmann::json{{"layer", {{"class_name", forward_->type()}, {"config", nlohmann::json::parse(forward_->config_json())}}},
                        {"merge_mode", merge_mode_}}
      .dump();
}

Outputs Bidirectional::call_impl(const Call& c) {
  const int k = forward_->state_count();
  Call fc{.inputs = c.inputs, .masks = c.masks}, bc{.inputs = c.inputs, .masks = c.masks};
  if (!c.initial_state.empty()) {  // forward's states, then backward's
    if (static_cast<int>(c.initial_state.size()) != 2 * k)
      fail<ValueError>("Bidirectional '", name(), "' expects ", 2 * k, " initial state tensors (forward's, then "
                       "backward's), got ", c.initial_state.size());
    fc.initial_state.assign(c.initial_state.begin(), c.initial_state.begin() + k);
    bc.initial_state.assign(c.initial_state.begin() + k, c.initial_state.end());
  }
  Outputs f = forward_->call(fc), b = backward_->call(bc);
  Tensor fy = f.tensors[0], by = b.tensors[0];
  if (forward_->options().return_sequences) by = reverse_time(by);  // back in the input's order
  Outputs out;
  if (merge_mode_ == "none") {
    out.tensors = {fy, by};
    out.masks = {f.masks[0], f.masks[0]};
  } else {
    Tensor y = merge_mode_ == "concat" ? concat({fy, by}, -1)
               : merge_mode_ == "sum"  ? fy + by
               : merge_mode_ == "mul"  ? fy * by
                                       : (fy + by) * 0.5;
    out.tensors = {y};
    out.masks = {f.masks[0]};
  }
  for (const auto* states : {&f, &b})
    for (std::size_t i = 1; i < states->tensors.size(); ++i) {
      out.tensors.push_back(states->tensors[i]);
      out.masks.push_back(Tensor());
    }
  return out;
}

}  // namespace cortex::nn
