// SimpleRNN, LSTM and GRU: the backend's fused kernel for the whole sequence
// (cortex::rnn: oneDNN's RNN primitives on the cpu backend) where it runs the
// cell, and otherwise one time loop over Keras's cells composed of tensor ops
// (so every backend runs it and autograd derives its backward): masks,
// recurrent dropout, activations other than Keras's defaults, GRU without
// reset_after, f64, and backends without the kernel.
#include "cortex/nn/recurrent.h"

#include <nlohmann/json.hpp>

#include "cortex/ops/activation.h"
#include "cortex/ops/creation.h"
#include "cortex/ops/elementwise.h"
#include "cortex/ops/matmul.h"
#include "cortex/ops/rnn.h"
#include "cortex/ops/shape_ops.h"

namespace cortex::nn {

Recurrent::Recurrent(std::string type, RecurrentOptions o, int gates) : Module(std::move(type)), o_(std::move(o)), gates_(gates) {
  const std::string who = Module::type();
  if (o_.units < 1) fail<ValueError>(who, " expects units >= 1, got ", o_.units);
  check_activation(o_.activation, who);
  check_activation(o_.recurrent_activation, who);
  for (const auto* init : {&o_.kernel_initializer, &o_.recurrent_initializer, &o_.bias_initializer})
    check_initializer(*init, who);
  for (const auto& [what, rate] : {std::pair{"dropout", o_.dropout}, std::pair{"recurrent_dropout", o_.recurrent_dropout}})
    if (!(rate >= 0.0 && rate < 1.0)) fail<ValueError>(who, " expects ", what, " in [0, 1), got ", rate);
}

std::string Recurrent::config_json() const {
  nlohmann::json j{{"units", o_.units},
                   {"activation", o_.activation},
                   {"use_bias", o_.use_bias},
                   {"kernel_initializer", o_.kernel_initializer},
                   {"recurrent_initializer", o_.recurrent_initializer},
                   {"bias_initializer", o_.bias_initializer},
                   {"dropout", o_.dropout},
                   {"recurrent_dropout", o_.recurrent_dropout},
                   {"return_sequences", o_.return_sequences},
                   {"return_state", o_.return_state},
                   {"go_backwards", o_.go_backwards},
                   {"stateful", o_.stateful},
                   {"unroll", o_.unroll}};
  if (gates_ > 1) j["recurrent_activation"] = o_.recurrent_activation;
  if (gates_ == 4) j["unit_forget_bias"] = o_.unit_forget_bias;
  if (gates_ == 3) j["reset_after"] = o_.reset_after;
  return j.dump();
}

void Recurrent::check_input(const Tensor& x) const {
  if (x.dim() != 3)
    fail<ShapeError>(type(), " '", name(), "' expects a sequence of rank 3 (batch, time, features), got shape ",
                     shape_str(x.shape()));
  if (built() && x.shape()[2] != kernel_.shape()[0])
    fail<ShapeError>(type(), " '", name(), "' was built for ", kernel_.shape()[0], " features per step, got shape ",
                     shape_str(x.shape()));
  if (!is_floating(x.dtype()))
    fail<DTypeError>(type(), " '", name(), "' expects floating inputs, got ", dtype_name(x.dtype()),
                     " (integer ids go through an Embedding first)");
}

void Recurrent::build_impl(const Shape& input_shape) {
  const std::int64_t f = input_shape.back(), u = o_.units, g = gates_ * u;
  kernel_ = register_parameter("kernel", initialize(o_.kernel_initializer, {f, g}, generator()));
  recurrent_kernel_ = register_parameter("recurrent_kernel", initialize(o_.recurrent_initializer, {u, g}, generator()));
  if (!o_.use_bias) return;
  if (gates_ == 3 && o_.reset_after) {
    bias_ = register_parameter("bias", initialize(o_.bias_initializer, {2, g}, generator()));
  } else if (gates_ == 4 && o_.unit_forget_bias) {  // Keras: [init(units), ones(units), init(2 * units)]
    Tensor b = initialize(o_.bias_initializer, {g}, generator());
    b.slice(0, u, 2 * u).fill_(1.0);
    bias_ = register_parameter("bias", b);
  } else {
    bias_ = register_parameter("bias", initialize(o_.bias_initializer, {g}, generator()));
  }
}

std::vector<Tensor> Recurrent::step(const Tensor& xw, const std::vector<Tensor>& states, const Tensor& h_in) {
  const Tensor& h = states[0];
  const std::int64_t u = o_.units;
  auto act = [&](const Tensor& t) { return activate(o_.activation, t); };
  auto gate = [&](const Tensor& t) { return activate(o_.recurrent_activation, t); };
  if (gates_ == 1) return {act(xw + matmul(h_in, recurrent_kernel_))};
  if (gates_ == 4) {
    std::vector<Tensor> z = chunk(xw + matmul(h_in, recurrent_kernel_), 4, 1);
    Tensor c = gate(z[1]) * states[1] + gate(z[0]) * act(z[2]);
    return {gate(z[3]) * act(c), c};
  }
  // GRU, gates [z, r, h]
  std::vector<Tensor> xs = chunk(xw, 3, 1);
  if (o_.reset_after) {  // the reset gate multiplies the recurrent product, its bias included
    Tensor hw = matmul(h_in, recurrent_kernel_);
    if (bias_.defined()) hw = hw + bias_.select(0, 1);
    std::vector<Tensor> hs = chunk(hw, 3, 1);
    Tensor z = gate(xs[0] + hs[0]), r = gate(xs[1] + hs[1]);
    return {z * h + (1.0 - z) * act(xs[2] + r * hs[2])};
  }
  std::vector<Tensor> zr = chunk(matmul(h_in, recurrent_kernel_.slice(1, 0, 2 * u)), 2, 1);
  Tensor z = gate(xs[0] + zr[0]), r = gate(xs[1] + zr[1]);
  Tensor candidate = act(xs[2] + matmul(r * h_in, recurrent_kernel_.slice(1, 2 * u, 3 * u)));
  return {z * h + (1.0 - z) * candidate};
}

Outputs Recurrent::call_impl(const Call& c) {
  if (c.inputs.size() != 1)
    fail<ValueError>(type(), " '", name(), "' takes one input sequence, got ", c.inputs.size(),
                     " (initial states go in Call::initial_state)");
  Tensor x = c.inputs[0];  // (N, T, F)
  const std::int64_t n = x.shape()[0], t_len = x.shape()[1], u = o_.units;
  Tensor mask = c.masks.empty() ? Tensor() : c.masks[0];
  if (mask.defined()) {
    if (mask.shape() != Shape{n, t_len})
      fail<ShapeError>(type(), " '", name(), "' expects a mask of shape ", shape_str({n, t_len}),
                       " for its input ", shape_str(x.shape()), ", got ", shape_str(mask.shape()));
    if (mask.dtype() != DType::boolean) mask = ne(mask, zeros_like(mask));
  }
  std::vector<Tensor> states;
  if (!c.initial_state.empty()) {
    if (static_cast<int>(c.initial_state.size()) != state_count())
      fail<ValueError>(type(), " '", name(), "' expects ", state_count(), " initial state tensor(s), got ",
                       c.initial_state.size());
    for (const Tensor& s : c.initial_state) {
      if (!s.defined() || s.shape() != Shape{n, u})
        fail<ShapeError>(type(), " '", name(), "' expects initial states of shape ", shape_str({n, u}), ", got ",
                         s.defined() ? shape_str(s.shape()) : std::string("an undefined tensor"));
      states.push_back(s.to(x.dtype()));
    }
  } else if (o_.stateful && !carried_.empty()) {
    if (carried_[0].shape()[0] != n || carried_[0].device() != x.device())
      fail<ValueError>("stateful ", type(), " '", name(), "' carries states for a batch of ", carried_[0].shape()[0],
                       " on ", carried_[0].device().str(), ", got a batch of ", n, " on ", x.device().str(),
                       " (row i of each batch continues row i of the last; call reset_states() to start afresh)");
    for (const Tensor& s : carried_) states.push_back(s.to(x.dtype()));
  } else {
    for (int i = 0; i < state_count(); ++i) states.push_back(zeros({n, u}, x.dtype(), x.device()));
  }
  // Keras draws one dropout mask per call and applies it at every step.
  if (is_training() && o_.dropout > 0)
    x = x * (bernoulli({n, 1, x.shape()[2]}, 1.0 - o_.dropout, generator(), x.dtype()).to(x.device()) /
             (1.0 - o_.dropout));
  if (const std::optional<RnnCell> cell = fused_cell(x, mask)) return call_fused(*cell, x, std::move(states));
  Tensor h_mask;
  if (is_training() && o_.recurrent_dropout > 0)
    h_mask = bernoulli({n, u}, 1.0 - o_.recurrent_dropout, generator(), x.dtype()).to(x.device()) /
             (1.0 - o_.recurrent_dropout);

  // Every step's input projection in one product: (N, T, gates * units).
  Tensor in_bias = bias_;
  if (bias_.defined() && gates_ == 3 && o_.reset_after) in_bias = bias_.select(0, 0);
  std::vector<Tensor> xw = unbind(linear(x, kernel_, in_bias), 1);
  std::vector<Tensor> steps_mask = mask.defined() ? unbind(mask, 1) : std::vector<Tensor>{};
  std::vector<Tensor> outputs;
  if (o_.return_sequences) outputs.reserve(t_len);
  for (std::int64_t i = 0; i < t_len; ++i) {
    const std::int64_t t = o_.go_backwards ? t_len - 1 - i : i;
    std::vector<Tensor> next = step(xw[t], states, h_mask.defined() ? states[0] * h_mask : states[0]);
    if (mask.defined()) {
      Tensor m = steps_mask[t].unsqueeze(1);  // (N, 1)
      for (std::size_t s = 0; s < next.size(); ++s) next[s] = where(m, next[s], states[s]);
      if (o_.return_sequences) outputs.push_back(where(m, next[0], zeros_like(next[0])));
    } else if (o_.return_sequences) {
      outputs.push_back(next[0]);
    }
    states = std::move(next);
  }
  if (o_.stateful) carry(states);
  Outputs out;
  if (o_.return_sequences) {
    out.tensors.push_back(t_len > 0 ? stack(outputs, 1) : zeros({n, 0, u}, x.dtype(), x.device()));
    out.masks.push_back(mask.defined() && o_.go_backwards ? reverse_time(mask) : mask);
  } else {
    out.tensors.push_back(states[0]);
    out.masks.push_back(Tensor());
  }
  if (o_.return_state)
    for (const Tensor& s : states) {
      out.tensors.push_back(s);
      out.masks.push_back(Tensor());
    }
  return out;
}

std::optional<RnnCell> Recurrent::fused_cell(const Tensor& x, const Tensor& mask) const {
  if (mask.defined() || (is_training() && o_.recurrent_dropout > 0)) return std::nullopt;
  std::optional<RnnCell> cell;
  if (gates_ == 1) {
    if (o_.activation == "tanh") cell = RnnCell::vanilla_tanh;
    else if (o_.activation == "relu") cell = RnnCell::vanilla_relu;
    else if (o_.activation == "sigmoid") cell = RnnCell::vanilla_sigmoid;
  } else if (o_.activation == "tanh" && o_.recurrent_activation == "sigmoid" && (gates_ == 4 || o_.reset_after)) {
    cell = gates_ == 4 ? RnnCell::lstm : RnnCell::gru;
  }
  if (cell && !rnn_fused(*cell, x)) cell.reset();
  return cell;
}

Outputs Recurrent::call_fused(RnnCell cell, const Tensor& x, std::vector<Tensor> states) {
  const std::int64_t u = o_.units;
  Tensor bias;
  if (!bias_.defined()) {
    bias = zeros({(cell == RnnCell::gru ? 4 : gates_) * u}, x.dtype(), x.device());
  } else if (cell == RnnCell::gru) {  // the kernel's GRU bias: [b_z, b_r (input + recurrent), b_h input, b_h recurrent]
    const Tensor in = bias_.select(0, 0), rec = bias_.select(0, 1);
    bias = concat({in.slice(0, 0, 2 * u) + rec.slice(0, 0, 2 * u), in.slice(0, 2 * u, 3 * u), rec.slice(0, 2 * u, 3 * u)});
  } else {
    bias = bias_;
  }
  // go_backwards reads the sequence from its end and writes outputs in that order.
  std::vector<Tensor> r = rnn(cell, o_.go_backwards ? reverse_time(x) : x, states[0],
                              cell == RnnCell::lstm ? states[1] : Tensor(), kernel_, recurrent_kernel_, bias);
  if (o_.stateful) carry({r.begin() + 1, r.end()});
  Outputs out;
  out.tensors.push_back(o_.return_sequences ? r[0] : r[1]);
  out.masks.push_back(Tensor());
  if (o_.return_state)
    for (std::size_t s = 1; s < r.size(); ++s) {
      out.tensors.push_back(r[s]);
      out.masks.push_back(Tensor());
    }
  return out;
}

void Recurrent::carry(const std::vector<Tensor>& final_states) {
  carried_.clear();
  for (const Tensor& s : final_states) carried_.push_back(s.detach());
}

Tensor reverse_time(const Tensor& x) {
  if (x.dim() < 2) fail<ShapeError>("reverse_time expects (batch, time, ...), got shape ", shape_str(x.shape()));
  const std::int64_t t = x.shape()[1];
  std::vector<std::int64_t> order(t);
  for (std::int64_t i = 0; i < t; ++i) order[i] = t - 1 - i;
  return index_select(x, 1, from_vector(order, {t}).to(x.device()));
}

}  // namespace cortex::nn
