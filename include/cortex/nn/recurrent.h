// Keras's recurrent layers (SimpleRNN, LSTM, GRU) and the layers around them
// (Embedding, Masking, RepeatVector, TimeDistributed, Bidirectional).
// Sequences are (batch, time, features); masks are (batch, time) bool.
#pragma once

#include <memory>
#include <string>

#include <optional>
#include <vector>

#include "cortex/backends/kernels.h"
#include "cortex/nn/layers.h"
#include "cortex/nn/module.h"

namespace cortex::nn {

// The options of SimpleRNN, LSTM and GRU, with Keras's names and defaults.
struct RecurrentOptions {
  std::int64_t units = 0;
  std::string activation = "tanh";
  std::string recurrent_activation = "sigmoid";  // LSTM and GRU gates
  bool use_bias = true;
  std::string kernel_initializer = "glorot_uniform";
  std::string recurrent_initializer = "orthogonal";
  std::string bias_initializer = "zeros";
  bool unit_forget_bias = true;  // LSTM: the forget gate's bias starts at 1
  bool reset_after = true;       // GRU: the reset gate multiplies the recurrent product (cuDNN's and PyTorch's GRU)
  double dropout = 0.0;            // on the inputs, one mask for every step
  double recurrent_dropout = 0.0;  // on the carried output, one mask for every step
  bool return_sequences = false;   // (N, T, units) instead of the last output (N, units)
  bool return_state = false;       // the final states follow the output: h (and c for an LSTM)
  bool go_backwards = false;       // reads the sequence from its end; outputs come in that order
  // Each call starts from the states the previous call ended with (Keras's
  // stateful: row i of a batch continues row i of the batch before; the
  // gradient stops there: truncated backpropagation through time), until
  // reset_states(). initial_state, when given, takes precedence.
  bool stateful = false;
  bool unroll = false;             // accepted for Keras's configs: the fused kernel or the composed loop runs either way
};
using SimpleRNNOptions = RecurrentOptions;
using LSTMOptions = RecurrentOptions;
using GRUOptions = RecurrentOptions;

// The time loop shared by the three cells. Weights in Keras's layout:
// kernel (features, gates * units), recurrent_kernel (units, gates * units),
// bias (gates * units), or (2, 3 * units) for a GRU with reset_after (input
// and recurrent biases). Gate order: LSTM [i, f, c, o], GRU [z, r, h].
// Masked steps carry the states through; with return_sequences their outputs are zero.
class Recurrent : public Module {
 public:
  const RecurrentOptions& options() const { return o_; }
  std::string config_json() const override;
  // The number of state tensors: 2 for an LSTM (h, c), 1 otherwise.
  int state_count() const { return gates_ == 4 ? 2 : 1; }
  Tensor forward(const Tensor& x) override { return call({.inputs = {x}}).tensors[0]; }
  void reset_states() override { carried_.clear(); }
  // What a stateful layer carries into its next call (empty before the first call and after reset_states()).
  const std::vector<Tensor>& carried_states() const { return carried_; }

 protected:
  Recurrent(std::string type, RecurrentOptions o, int gates);
  void build_impl(const Shape& input_shape) override;
  void check_input(const Tensor& x) const override;
  Outputs call_impl(const Call& c) override;

 private:
  // One step: the input's projection xw (N, gates * units) and the states in, the states out.
  std::vector<Tensor> step(const Tensor& xw, const std::vector<Tensor>& states, const Tensor& h_dropped);
  // The backend's fused cell for this call, if it runs one (no mask, no
  // recurrent dropout, Keras's default activations, GRU with reset_after).
  std::optional<backend::RnnCell> fused_cell(const Tensor& x, const Tensor& mask) const;
  Outputs call_fused(backend::RnnCell cell, const Tensor& x, std::vector<Tensor> states);

  // A stateful layer keeps the final states, detached.
  void carry(const std::vector<Tensor>& final_states);

  RecurrentOptions o_;
  int gates_;
  Tensor kernel_, recurrent_kernel_, bias_;
  std::vector<Tensor> carried_;
};

class SimpleRNN : public Recurrent {
 public:
  explicit SimpleRNN(SimpleRNNOptions o) : Recurrent("SimpleRNN", std::move(o), 1) {}
};
class LSTM : public Recurrent {
 public:
  explicit LSTM(LSTMOptions o) : Recurrent("LSTM", std::move(o), 4) {}
};
class GRU : public Recurrent {
 public:
  explicit GRU(GRUOptions o) : Recurrent("GRU", std::move(o), 3) {}
};

struct EmbeddingOptions {
  std::int64_t input_dim = 0;   // the vocabulary: ids are 0 .. input_dim - 1
  std::int64_t output_dim = 0;
  std::string embeddings_initializer = "uniform";
  bool mask_zero = false;  // id 0 is padding: the output carries a mask, false where the id is 0
};

// ids (N, ...) integers (or floats holding whole numbers) -> (N, ..., output_dim).
class Embedding : public Module {
 public:
  explicit Embedding(EmbeddingOptions o);
  Tensor forward(const Tensor& ids) override;
  std::string config_json() const override;
  const EmbeddingOptions& options() const { return o_; }

 protected:
  void build_impl(const Shape& input_shape) override;
  Outputs call_impl(const Call& c) override;

 private:
  EmbeddingOptions o_;
  Tensor embeddings_;
};

// Marks the steps whose features all equal mask_value as padding: x (N, T, F)
// -> x with those steps zeroed, and the mask (N, T).
class Masking : public Module {
 public:
  explicit Masking(double mask_value = 0.0);
  Tensor forward(const Tensor& x) override;
  std::string config_json() const override;

 protected:
  void check_input(const Tensor& x) const override;
  Outputs call_impl(const Call& c) override;

 private:
  double mask_value_;
};

// (N, F) -> (N, n, F)
class RepeatVector : public Module {
 public:
  explicit RepeatVector(std::int64_t n);
  Tensor forward(const Tensor& x) override;
  std::string config_json() const override;

 protected:
  void check_input(const Tensor& x) const override;

 private:
  std::int64_t n_;
};

// Applies `layer` to every time step: (N, T, ...) -> (N, T, layer's output).
// Its activation is the inner layer's, so that a softmax inside still fuses
// with a cross-entropy loss.
class TimeDistributed : public Activated {
 public:
  explicit TimeDistributed(std::shared_ptr<Module> layer);
  template <typename L>
    requires std::derived_from<std::decay_t<L>, Module>
  explicit TimeDistributed(L&& layer) : TimeDistributed(std::make_shared<std::decay_t<L>>(std::forward<L>(layer))) {}
  const std::string& activation() const override;
  bool supports_masking() const override { return true; }
  std::string config_json() const override;
  Module& layer() { return *layer_; }

 protected:
  void check_input(const Tensor& x) const override;
  Tensor forward_linear(const Tensor& x) override;

 private:
  std::shared_ptr<Module> layer_;
};

// Runs a recurrent layer forwards and a copy of it backwards and merges their
// outputs: merge_mode "concat" (default), "sum", "mul", "ave", or "none" (both
// outputs, forward first). With return_state the states follow: forward's, then backward's.
class Bidirectional : public Module {
 public:
  explicit Bidirectional(std::shared_ptr<Recurrent> layer, std::string merge_mode = "concat");
  template <typename L>
    requires std::derived_from<std::decay_t<L>, Recurrent>
  explicit Bidirectional(L&& layer, std::string merge_mode = "concat")
      : Bidirectional(std::make_shared<std::decay_t<L>>(std::forward<L>(layer)), std::move(merge_mode)) {}
  Tensor forward(const Tensor& x) override { return call({.inputs = {x}}).tensors[0]; }
  std::string config_json() const override;

 protected:
  Outputs call_impl(const Call& c) override;

 private:
  std::shared_ptr<Recurrent> forward_, backward_;
  std::string merge_mode_;
};

// Reverses the time axis (axis 1) of x (N, T, ...).
Tensor reverse_time(const Tensor& x);

}  // namespace cortex::nn
