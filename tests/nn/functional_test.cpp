// The functional API: graphs of symbolic calls, shared layers, merges, masks,
// names, the summary, the graph's JSON, and the errors of bad graphs.
#include <nlohmann/json.hpp>

#include "cortex/nn/nn.h"
#include "support/check.h"

namespace cortex::nn {
namespace {

std::string message(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

// A skip connection and a layer used twice: the graph computes what the layers compute by hand.
TEST(Functional, SkipAndSharedLayerComputeWhatTheLayersDo) {
  Input x({6}, "x");
  auto shared = std::make_shared<Dense>(DenseOptions{.units = 6, .activation = "tanh"});
  Symbolic h1 = (*shared)(x);
  Symbolic h2 = (*shared)(h1);  // the same weights again
  Symbolic sum_of = Add()({x, h2});
  Symbolic y = Dense({.units = 3})(sum_of);
  EXPECT_EQ(y.shape(), (Shape{3}));
  Functional net({x}, {y});
  net.set_generator(std::make_shared<Generator>(5));
  EXPECT_EQ(net.layers().size(), 3u);  // dense, add, dense_1: the shared layer once
  EXPECT_TRUE(net.named_parameters().empty());  // built when the graph first runs
  net.build({});
  NamedTensors params = net.named_parameters();
  ASSERT_EQ(params.size(), 4u);
  EXPECT_EQ(params[0].first, "dense.kernel");
  EXPECT_EQ(params[2].first, "dense_1.kernel");

  Generator g(2);
  Tensor in = randn({4, 6}, g);
  in.set_requires_grad(true);
  Tensor out = net(in);
  Tensor want = (*net.layers()[2])((*shared)((*shared)(in)) + in);
  EXPECT_ALL_CLOSE(out, want, 1e-6, 1e-6);
  // Both calls of the shared layer send gradient into its one kernel.
  sum(out).backward();
  ASSERT_TRUE(params[0].second.grad().defined());
  EXPECT_TRUE(in.grad().defined());
}

// Layers are built when the graph first runs, from the generator the model
// gives them: two layers of one shape differ, and the seed decides both.
TEST(Functional, WeightsComeFromTheModelsGenerator) {
  auto make = [](std::uint64_t seed) {
    Input x({4});
    Symbolic y = Dense({.units = 4})(Dense({.units = 4})(x));
    auto net = std::make_shared<Functional>(std::vector<Symbolic>{x}, std::vector<Symbolic>{y});
    net->set_generator(std::make_shared<Generator>(seed));
    net->build({});
    return net->named_parameters();
  };
  NamedTensors a = make(1), b = make(1), c = make(2);
  ASSERT_EQ(a.size(), 4u);
  EXPECT_GT(max(abs(a[0].second - a[2].second)).item(), 1e-3);  // dense.kernel vs dense_1.kernel
  EXPECT_EQ(a[0].second.to_vector<float>(), b[0].second.to_vector<float>());
  EXPECT_GT(max(abs(a[0].second - c[0].second)).item(), 1e-3);
}

TEST(Functional, SeveralInputsAndOutputs) {
  Input a({5}, "a"), b({5}, "b");
  Symbolic joined = Concatenate()({a, b});
  Symbolic p = Dense({.units = 2, .activation = "softmax"})(joined);
  Symbolic q = Dense({.units = 1})(Multiply()({a, b}));
  Functional net({a, b}, {p, q});
  EXPECT_EQ(joined.shape(), (Shape{10}));
  Generator g(1);
  Tensor ta = randn({3, 5}, g), tb = randn({3, 5}, g);
  Outputs out = net.call({.inputs = {ta, tb}});
  ASSERT_EQ(out.tensors.size(), 2u);
  EXPECT_EQ(out.tensors[0].shape(), (Shape{3, 2}));
  EXPECT_EQ(out.tensors[1].shape(), (Shape{3, 1}));
  EXPECT_ALL_CLOSE(sum(out.tensors[0], {1}), ones({3}), 1e-6, 1e-6);
  EXPECT_NE(message([&] { net.call({.inputs = {ta}}); }).find("expects 2 input(s), got 1"), std::string::npos);
  EXPECT_NE(message([&] { net.call({.inputs = {ta, randn({3, 4}, g)}}); }).find("expects input 'b' of shape (None, 5), got [3, 4]"),
            std::string::npos);
}

// An encoder whose final states start a decoder (the seq2seq wiring), with a
// free time axis and an Embedding's mask flowing into the encoder.
TEST(Functional, EncoderStatesStartTheDecoderAndMasksFlow) {
  Input src({-1}, "source", DType::i64), dst({-1, 4}, "target");
  Symbolic e = Embedding({.input_dim = 9, .output_dim = 4, .mask_zero = true})(src);
  EXPECT_EQ(e.shape(), (Shape{-1, 4}));
  std::vector<Symbolic> enc = LSTM({.units = 5, .return_state = true})(std::vector<Symbolic>{e});
  ASSERT_EQ(enc.size(), 3u);
  auto decoder = std::make_shared<LSTM>(LSTMOptions{.units = 5, .return_sequences = true});
  // Initial states go in through the layer's Call; in a graph, a small Module does it.
  class Seeded : public Module {
   public:
    explicit Seeded(std::shared_ptr<LSTM> lstm) : Module("Seeded"), lstm_(std::move(lstm)) { register_module("lstm", lstm_); }
    Tensor forward(const Tensor& x) override { return (*lstm_)(x); }

   protected:
    Outputs call_impl(const Call& c) override {
      return lstm_->call({.inputs = {c.inputs[0]}, .initial_state = {c.inputs[1], c.inputs[2]}});
    }

   private:
    std::shared_ptr<LSTM> lstm_;
  };
  auto seeded = std::make_shared<Seeded>(decoder);
  std::vector<Symbolic> y = (*seeded)(std::vector<Symbolic>{dst, enc[1], enc[2]});
  EXPECT_EQ(y[0].shape(), (Shape{-1, 5}));
  Functional net({src, dst}, {y[0]});
  net.set_generator(std::make_shared<Generator>(3));
  Generator g(4);
  Tensor ids = from_vector<std::int64_t>({3, 1, 0, 0, 2, 2, 5, 0}, {2, 4});
  Tensor out = net.call({.inputs = {ids, randn({2, 3, 4}, g)}}).tensors[0];
  EXPECT_EQ(out.shape(), (Shape{2, 3, 5}));
  // Padding after the real ids changes nothing: the mask carried the states through.
  Tensor shorter = from_vector<std::int64_t>({3, 1, 0, 2, 2, 5}, {2, 3});
  Tensor t = randn({2, 3, 4}, g);
  EXPECT_ALL_CLOSE(net.call({.inputs = {ids, t}}).tensors[0], net.call({.inputs = {shorter, t}}).tensors[0], 1e-6, 1e-6);
}

TEST(Functional, SummaryShowsConnections) {
  Input x({8}, "features");
  auto shared = std::make_shared<Dense>(DenseOptions{.units = 8});
  Symbolic a = (*shared)(x), b = (*shared)(a);
  Symbolic y = Add()({a, b});
  Functional net({x}, {y}, "residual");
  const std::string table = net.summary();
  EXPECT_NE(table.find("Model: \"residual\""), std::string::npos) << table;
  EXPECT_NE(table.find("features (InputLayer)"), std::string::npos) << table;
  EXPECT_NE(table.find("dense (Dense)"), std::string::npos) << table;
  EXPECT_NE(table.find("Connected to"), std::string::npos) << table;
  EXPECT_NE(table.find("dense[1][0]"), std::string::npos) << table;  // the second call
  EXPECT_NE(table.find("Total params: 72"), std::string::npos) << table;  // the shared layer counted once
}

TEST(Functional, GraphJsonRoundTrips) {
  Input x({3, 4}, "x");
  auto shared = std::make_shared<GRU>(GRUOptions{.units = 4, .return_sequences = true});
  Symbolic h = (*shared)((*shared)(x));
  Symbolic y = TimeDistributed(Dense({.units = 2}))(Concatenate()({h, x}));
  Functional net({x}, {y});
  net.set_generator(std::make_shared<Generator>(8));
  auto back = Functional::from_graph_json(net.graph_json());
  EXPECT_EQ(back->graph_json(), net.graph_json());
  Generator g(1);
  Tensor in = randn({2, 3, 4}, g);
  Tensor want = net(in);  // the first call builds the layers
  EXPECT_TRUE(back->named_parameters().empty());
  back->build({});
  back->load_state_dict(net.state_dict());
  EXPECT_ALL_CLOSE((*back)(in), want, 0, 0);
  EXPECT_NE(message([] { Functional::from_graph_json(R"({"layers": [{"class_name": "Dense", "name": "d", "config": {"units": 2},
      "inbound_nodes": [[["ghost", 0, 0]]]}], "input_layers": [], "output_layers": [["d", 0, 0]]})"); })
                .find("cannot be rebuilt: the call of 'd' needs tensors no layer makes"),
            std::string::npos);
}

// A shared layer's second call may be ready before its first one when the
// graph is rebuilt; each call must keep its index. And an input nothing uses is kept.
TEST(Functional, RebuiltGraphsKeepEachCallAndEveryInput) {
  Input x({4}, "x"), unused({2}, "unused");
  auto l = std::make_shared<Dense>(DenseOptions{.units = 4, .activation = "tanh"});
  auto m = std::make_shared<Dense>(DenseOptions{.units = 4, .activation = "tanh"});
  auto s = std::make_shared<Dense>(DenseOptions{.units = 4});
  Symbolic l0 = (*l)(x), m0 = (*m)(l0), l1 = (*l)(m0), s0 = (*s)(l1), s1 = (*s)(x);
  Functional net({x, unused}, {s0, s1});
  net.set_generator(std::make_shared<Generator>(2));
  Generator g(3);
  Tensor in = randn({2, 4}, g), u = randn({2, 2}, g);
  Outputs want = net.call({.inputs = {in, u}});
  auto back = Functional::from_graph_json(net.graph_json());
  back->build({});
  back->load_state_dict(net.state_dict());
  Outputs got = back->call({.inputs = {in, u}});
  EXPECT_ALL_CLOSE(got.tensors[0], want.tensors[0], 0, 0);
  EXPECT_ALL_CLOSE(got.tensors[1], want.tensors[1], 0, 0);
  EXPECT_EQ(back->inputs().size(), 2u);
}

TEST(Functional, ConcatenatingAlongTimeJoinsTheMasks) {
  Tensor a = from_vector<std::int64_t>({1, 2, 0}, {1, 3}), b = from_vector<std::int64_t>({4, 0}, {1, 2});
  Embedding emb({.input_dim = 5, .output_dim = 2, .mask_zero = true});
  Outputs ea = emb.call({.inputs = {a}}), eb = emb.call({.inputs = {b}});
  Outputs joined = Concatenate(1).call({.inputs = {ea.tensors[0], eb.tensors[0]}, .masks = {ea.masks[0], eb.masks[0]}});
  EXPECT_EQ(joined.tensors[0].shape(), (Shape{1, 5, 2}));
  EXPECT_EQ(joined.masks[0].to(DType::i64).to_vector<std::int64_t>(), (std::vector<std::int64_t>{1, 1, 0, 1, 0}));
  // Along features a step is real only where it is real in both.
  Outputs side = Concatenate().call({.inputs = {ea.tensors[0], ea.tensors[0]}, .masks = {ea.masks[0], Tensor()}});
  EXPECT_EQ(side.masks[0].to(DType::i64).to_vector<std::int64_t>(), (std::vector<std::int64_t>{1, 1, 0}));
}

TEST(Functional, BadGraphsAreClearErrors) {
  Input x({4}, "x"), other({4}, "other");
  Symbolic y = Dense({.units = 2})(Add()({x, other}));
  EXPECT_NE(message([&] { Functional({x}, {y}); }).find("needs the Input 'other' (None, 4) (for add) but it is not among"),
            std::string::npos);
  EXPECT_NE(message([&] { Functional({x, x}, {y}); }).find("lists the input 'x[0][0]' twice"), std::string::npos);
  Input seq({5, 3}, "seq");
  EXPECT_NE(message([&] { Add()({x, seq}); }).find("Add 'add' cannot be called on (None, 4), (None, 5, 3)"), std::string::npos);
  EXPECT_NE(message([&] { LSTM({.units = 2})(x); }).find("LSTM 'lstm' cannot be called on (None, 4): LSTM 'lstm' expects a sequence of rank 3"),
            std::string::npos);
  Dense named({.units = 2});
  named.set_name("head");
  Dense twin({.units = 2});
  twin.set_name("head");
  Symbolic h = std::move(named)(x);
  Symbolic t = std::move(twin)(h);
  EXPECT_NE(message([&] { Functional({x}, {t}); }).find("two layers named 'head'"), std::string::npos);
  Dense local({.units = 2});
  EXPECT_NE(message([&] { local(x); }).find("not held by a std::shared_ptr"), std::string::npos);
}

TEST(Functional, MergeLayers) {
  Generator g(6);
  Tensor a = randn({2, 3}, g), b = randn({2, 3}, g);
  auto merged = [&](Module&& m) { return m.call({.inputs = {a, b}}).tensors[0]; };
  EXPECT_ALL_CLOSE(merged(Subtract()), a - b, 0, 0);
  EXPECT_ALL_CLOSE(merged(Average()), (a + b) * 0.5, 1e-7, 1e-7);
  EXPECT_ALL_CLOSE(merged(Maximum()), maximum(a, b), 0, 0);
  EXPECT_ALL_CLOSE(merged(Dot(1)), sum(a * b, {1}, true), 1e-6, 1e-6);
  Tensor s = randn({2, 4, 3}, g), t = randn({2, 5, 3}, g);
  Tensor scores = Dot(2).call({.inputs = {s, t}}).tensors[0];  // attention scores (N, T, S)
  EXPECT_EQ(scores.shape(), (Shape{2, 4, 5}));
  EXPECT_NEAR(scores.at({1, 2, 3}), sum(s.select(0, 1).select(0, 2) * t.select(0, 1).select(0, 3)).item(), 1e-5);
  EXPECT_NE(message([&] { Subtract().call({.inputs = {a, b, a}}); }).find("exactly 2 inputs, got 3"), std::string::npos);
  EXPECT_NE(message([&] { Add().call({.inputs = {a}}); }).find("at least 2 inputs"), std::string::npos);
}

}  // namespace
}  // namespace cortex::nn
