// The fused recurrent kernel (cortex::rnn: oneDNN's RNN primitives on the cpu
// backend) against the composed cell loop on the ref backend: outputs, final
// states and every gradient, for each cell, direction, initial states and
// bias; which calls take the fused path; and the op's bad inputs.
#include <functional>

#include "cortex/nn/nn.h"
#include "support/check.h"

namespace cortex::nn {
namespace {

struct FusedCase {
  std::string name;
  std::function<std::shared_ptr<Recurrent>()> make;
  bool initial_state = false;
};
void PrintTo(const FusedCase& c, std::ostream* out) { *out << c.name; }

struct LayerRun {
  std::vector<Tensor> outputs, grads;  // outputs; then the gradients of x, the initial states and each parameter
  std::string node;                    // the node that made the first output
};

// Calls a fresh layer (same seed, so the same weights) on the given backend and
// backpropagates sum(output_i * upstream_i) over every output.
LayerRun run_layer(const FusedCase& c, backend::Backend which, bool training = true) {
  backend::BackendScope scope(which);
  Generator gen(7);
  const std::int64_t n = 3, t = 6, f = 5;
  auto layer = c.make();
  layer->set_generator(std::make_shared<Generator>(11));
  layer->train(training);
  const std::int64_t u = layer->options().units;
  Tensor x = randn({n, t, f}, gen);
  x.set_requires_grad(true);
  Call call{.inputs = {x}};
  if (c.initial_state)
    for (int i = 0; i < layer->state_count(); ++i) {
      call.initial_state.push_back(randn({n, u}, gen));
      call.initial_state.back().set_requires_grad(true);
    }
  Outputs out = layer->call(call);
  LayerRun r;
  r.node = out.tensors[0].grad_fn() ? out.tensors[0].grad_fn()->name() : "";
  Tensor loss = zeros({});
  for (const Tensor& o : out.tensors) {
    r.outputs.push_back(o.detach());
    loss = loss + sum(o * randn(o.shape(), gen));
  }
  loss.backward();
  r.grads.push_back(x.grad());
  for (const Tensor& s : call.initial_state) r.grads.push_back(s.grad());
  for (const auto& [name, p] : layer->named_parameters()) r.grads.push_back(p.grad());
  return r;
}

class RecurrentFused : public ::testing::TestWithParam<FusedCase> {};

TEST_P(RecurrentFused, MatchesTheComposedLoopOnRef) {
  const FusedCase& c = GetParam();
  const LayerRun fused = run_layer(c, backend::Backend::Cpu), composed = run_layer(c, backend::Backend::Ref);
  EXPECT_EQ(fused.node.rfind("rnn (", 0), 0u) << "the cpu backend should run " << c.name << " fused, ran " << fused.node;
  EXPECT_EQ(composed.node.rfind("rnn (", 0), std::string::npos) << composed.node;
  ASSERT_EQ(fused.outputs.size(), composed.outputs.size());
  for (std::size_t i = 0; i < fused.outputs.size(); ++i) {
    SCOPED_TRACE(c.name + ": output " + std::to_string(i));
    EXPECT_ALL_CLOSE(fused.outputs[i], composed.outputs[i], 1e-5, 1e-5);
  }
  ASSERT_EQ(fused.grads.size(), composed.grads.size());
  for (std::size_t i = 0; i < fused.grads.size(); ++i) {
    SCOPED_TRACE(c.name + ": gradient " + std::to_string(i));
    ASSERT_TRUE(fused.grads[i].defined());
    EXPECT_GT(max(abs(fused.grads[i])).item<float>(), 0.0f);  // a zero gradient would match a zero by accident
    EXPECT_ALL_CLOSE(fused.grads[i], composed.grads[i], 1e-4, 1e-5);
  }
}

RecurrentOptions opts(std::int64_t units, bool sequences, bool state, bool backwards = false, bool bias = true) {
  return {.units = units, .use_bias = bias, .return_sequences = sequences, .return_state = state,
          .go_backwards = backwards};
}

std::vector<FusedCase> fused_cases() {
  return {
      {"lstm_sequences_state", [] { return std::make_shared<LSTM>(opts(7, true, true)); }},
      {"lstm_last_initial_state", [] { return std::make_shared<LSTM>(opts(4, false, true)); }, true},
      {"lstm_backwards_no_bias", [] { return std::make_shared<LSTM>(opts(6, true, false, true, false)); }},
      {"gru_sequences_state", [] { return std::make_shared<GRU>(opts(5, true, true)); }},
      {"gru_backwards_initial_state", [] { return std::make_shared<GRU>(opts(8, true, true, true)); }, true},
      {"simple_rnn_tanh", [] { return std::make_shared<SimpleRNN>(opts(6, true, true)); }, true},
      {"simple_rnn_relu_backwards", [] {
         RecurrentOptions o = opts(4, false, false, true);
         o.activation = "relu";
         return std::make_shared<SimpleRNN>(o);
       }},
      {"simple_rnn_sigmoid", [] {
         RecurrentOptions o = opts(5, true, false);
         o.activation = "sigmoid";
         return std::make_shared<SimpleRNN>(o);
       }},
  };
}

INSTANTIATE_TEST_SUITE_P(Cells, RecurrentFused, ::testing::ValuesIn(fused_cases()),
                         [](const auto& info) { return info.param.name; });

// Inference (no gradient wanted) runs the forward without a workspace: same outputs.
TEST(RecurrentFused, InferenceMatchesTraining) {
  auto layer = std::make_shared<LSTM>(opts(6, true, true));
  layer->set_generator(std::make_shared<Generator>(3));
  Generator gen(5);
  Tensor x = randn({2, 9, 4}, gen);
  Outputs trained = layer->call({.inputs = {x}});
  std::vector<Tensor> plain;
  {
    NoGradGuard no_grad;
    plain = layer->call({.inputs = {x}}).tensors;
  }
  ASSERT_EQ(plain.size(), 3u);
  for (std::size_t i = 0; i < plain.size(); ++i) EXPECT_ALL_CLOSE(plain[i], trained.tensors[i], 1e-6, 1e-6);
}

// What the kernel lacks goes to the composed loop on the same backend (f64
// too: BadOperandsNameWhatWasExpected checks that rnn_fused refuses it).
TEST(RecurrentFused, MasksDropoutAndOtherActivationsCompose) {
  Generator gen(1);
  auto node_of = [](Module& layer, const Call& c) {
    Tensor y = layer.call(c).tensors[0];
    return y.grad_fn() ? y.grad_fn()->name() : std::string();
  };
  Tensor x = randn({2, 4, 3}, gen);
  x.set_requires_grad(true);
  LSTM lstm(opts(5, true, false));
  EXPECT_EQ(node_of(lstm, {.inputs = {x}}), "rnn (LSTM)");
  Tensor mask = ne(from_vector<float>({1, 1, 0, 0, 1, 1, 1, 0}, {2, 4}), zeros({1}));
  EXPECT_NE(node_of(lstm, {.inputs = {x}, .masks = {mask}}).rfind("rnn (", 0), 0u);
  RecurrentOptions hard = opts(5, true, false);
  hard.recurrent_activation = "relu";
  LSTM hard_lstm(hard);
  EXPECT_NE(node_of(hard_lstm, {.inputs = {x}}).rfind("rnn (", 0), 0u);
  RecurrentOptions dropped = opts(5, true, false);
  dropped.recurrent_dropout = 0.5;
  GRU gru(dropped);
  EXPECT_NE(node_of(gru, {.inputs = {x}}).rfind("rnn (", 0), 0u);
  gru.train(false);  // no dropout in evaluation: fused again
  EXPECT_EQ(node_of(gru, {.inputs = {x}}), "rnn (GRU)");
  RecurrentOptions before = opts(5, true, false);
  before.reset_after = false;
  GRU gru_before(before);
  EXPECT_NE(node_of(gru_before, {.inputs = {x}}).rfind("rnn (", 0), 0u);
}

TEST(RecurrentFused, EmptySequencePassesTheStatesThrough) {
  Generator gen(2);
  Tensor x = zeros({2, 0, 3}), h0 = randn({2, 4}, gen), c0 = randn({2, 4}, gen);
  h0.set_requires_grad(true);
  std::vector<Tensor> r = rnn(RnnCell::lstm, x, h0, c0, randn({3, 16}, gen), randn({4, 16}, gen), zeros({16}));
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].shape(), (Shape{2, 0, 4}));
  EXPECT_ALL_CLOSE(r[1], h0.detach(), 0, 0);
  EXPECT_ALL_CLOSE(r[2], c0, 0, 0);
  sum(r[1] * 3.0).backward();
  EXPECT_ALL_CLOSE(h0.grad(), full({2, 4}, 3.0), 0, 0);
}

TEST(RecurrentFused, BadOperandsNameWhatWasExpected) {
  Generator gen(3);
  const Tensor x = randn({2, 5, 3}, gen), h = zeros({2, 4}), k = randn({3, 16}, gen), rk = randn({4, 16}, gen),
               b = zeros({16});
  EXPECT_ERROR_CONTAINS(rnn(RnnCell::lstm, randn({2, 3}, gen), h, h, k, rk, b), ShapeError, "(batch, time, features)");
  EXPECT_ERROR_CONTAINS(rnn(RnnCell::lstm, x, h, h, randn({3, 12}, gen), rk, b), ShapeError,
                        "the kernel of shape [3, 16], got [3, 12]");
  EXPECT_ERROR_CONTAINS(rnn(RnnCell::lstm, x, h, Tensor(), k, rk, b), Error, "the initial cell state");
  EXPECT_ERROR_CONTAINS(rnn(RnnCell::gru, x, h, Tensor(), randn({3, 12}, gen), randn({4, 12}, gen), zeros({12})),
                        ShapeError, "the bias of shape [16], got [12]");
  EXPECT_ERROR_CONTAINS(rnn(RnnCell::lstm, x, zeros({3, 4}), h, k, rk, b), ShapeError,
                        "the initial state of shape [2, 4], got [3, 4]");
  EXPECT_ERROR_CONTAINS(rnn(RnnCell::lstm, x.to(DType::f64), h.to(DType::f64), h.to(DType::f64), k.to(DType::f64),
                            rk.to(DType::f64), b.to(DType::f64)),
                        DTypeError, "no fused kernel for f64");
  {
    backend::BackendScope ref(backend::Backend::Ref);
    EXPECT_ERROR_CONTAINS(rnn(RnnCell::lstm, x, h, h, k, rk, b), DTypeError, "no fused kernel");
  }
}

}  // namespace
}  // namespace cortex::nn
