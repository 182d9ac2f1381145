// Recurrent layers against PyTorch goldens (tools/make_rnn_goldens.py), the
// layers around them, masks through a Sequential, and their bad inputs.
#include <algorithm>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cortex/nn/nn.h"
#include "goldens.h"
#include "support/check.h"

namespace cortex::nn {
namespace {

using nlohmann::json;

constexpr double kRtol = 1e-5, kAtol = 1e-5;

std::vector<std::string> rnn_cases() { return testing::golden_names("rnn_"); }

using testing::tensor_of;

struct RnnCase {
  std::string name;
  backend::Backend backend;
};
void PrintTo(const RnnCase& c, std::ostream* out) {
  *out << "rnn_" << c.name << ".json on the " << backend::backend_name(c.backend) << " backend";
}

class RecurrentGolden : public ::testing::TestWithParam<RnnCase> {};

TEST_P(RecurrentGolden, MatchesPyTorch) {
  const auto& [name, which] = GetParam();
  backend::BackendScope scope(which);
  std::ifstream in(std::string(CORTEX_GOLDENS_DIR) + "/rnn_" + name + ".json");
  json g = json::parse(in);
  auto layer = layer_from_config(g["layer"]["class_name"], g["layer"]["config"].dump());
  Tensor x = tensor_of(g["input"]);
  layer->build(x.shape());
  NamedTensors state;
  for (const auto& [n, t] : g["params"].items()) state.emplace_back(n, tensor_of(t));
  layer->load_state_dict(state);

  x.set_requires_grad(true);
  Call call{.inputs = {x}};
  if (!g["mask"].is_null()) call.masks = {ne(tensor_of(g["mask"]), zeros({1}))};
  std::vector<Tensor> initial;
  for (const auto& s : g["initial_state"]) {
    initial.push_back(tensor_of(s));
    initial.back().set_requires_grad(true);
  }
  call.initial_state = initial;
  Outputs out = layer->call(call);
  ASSERT_EQ(out.tensors.size(), g["outputs"].size());
  Tensor loss;
  for (std::size_t i = 0; i < out.tensors.size(); ++i) {
    SCOPED_TRACE(name + ": output " + std::to_string(i));
    EXPECT_ALL_CLOSE(out.tensors[i], tensor_of(g["outputs"][i]), kRtol, kAtol);
    Tensor term = sum(out.tensors[i] * tensor_of(g["upstream"][i]));
    loss = loss.defined() ? loss + term : term;
  }
  loss.backward();
  {
    SCOPED_TRACE(name + ": gradient of the input");
    EXPECT_ALL_CLOSE(x.grad(), tensor_of(g["grad_input"]), kRtol, kAtol);
  }
  for (std::size_t i = 0; i < initial.size(); ++i) {
    SCOPED_TRACE(name + ": gradient of initial state " + std::to_string(i));
    ASSERT_TRUE(initial[i].grad().defined());
    EXPECT_ALL_CLOSE(initial[i].grad(), tensor_of(g["grad_initial_state"][i]), kRtol, kAtol);
  }
  NamedTensors params = layer->named_parameters();
  EXPECT_EQ(params.size(), g["grads"].size());
  for (const auto& [n, p] : params) {
    SCOPED_TRACE(name + ": gradient of " + n);
    ASSERT_TRUE(g["grads"].contains(n));
    ASSERT_TRUE(p.grad().defined());
    EXPECT_ALL_CLOSE(p.grad(), tensor_of(g["grads"][n]), kRtol, kAtol);
  }
}

std::vector<RnnCase> all_rnn_cases() {
  std::vector<RnnCase> out;
  for (const auto& name : rnn_cases())
    for (auto b : {backend::Backend::Cpu, backend::Backend::Ref}) out.push_back({name, b});
  return out;
}

INSTANTIATE_TEST_SUITE_P(Layers, RecurrentGolden, ::testing::ValuesIn(all_rnn_cases()), [](const auto& info) {
  return info.param.name + "_" + backend::backend_name(info.param.backend);
});

// The files are made by hand; a lost one must fail, not shrink the suite.
TEST(RecurrentGolden, EveryCellMaskAndDirectionIsCovered) {
  bool masked[3] = {}, backwards[3] = {}, initial[3] = {};
  const std::vector<std::string> cells = {"SimpleRNN", "LSTM", "GRU"};
  for (const auto& name : rnn_cases()) {
    std::ifstream in(std::string(CORTEX_GOLDENS_DIR) + "/rnn_" + name + ".json");
    json g = json::parse(in);
    auto at = std::find(cells.begin(), cells.end(), g["layer"]["class_name"].get<std::string>()) - cells.begin();
    ASSERT_LT(at, 3) << name;
    masked[at] |= !g["mask"].is_null();
    backwards[at] |= g["layer"]["config"].value("go_backwards", false);
    initial[at] |= !g["initial_state"].empty();
  }
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(masked[i]) << cells[i];
    EXPECT_TRUE(backwards[i]) << cells[i];
  }
  EXPECT_TRUE(initial[1] && initial[2]);
  EXPECT_GE(rnn_cases().size(), 10u);
}

// Keras's initialisers: glorot kernel, orthogonal recurrent kernel, unit forget bias.
TEST(Recurrent, KerasInitialisers) {
  LSTM lstm({.units = 8});
  lstm.set_generator(std::make_shared<Generator>(1));
  lstm.build({2, 5, 3});
  NamedTensors p = lstm.named_parameters();
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].first, "kernel");
  EXPECT_EQ(p[0].second.shape(), (Shape{3, 32}));
  EXPECT_EQ(p[1].second.shape(), (Shape{8, 32}));
  // Rows of the (8, 32) orthogonal recurrent kernel are orthonormal: U U^T = I.
  Tensor uut = matmul(p[1].second, p[1].second.transpose(0, 1));
  std::vector<float> eye(64, 0.0f);
  for (int i = 0; i < 8; ++i) eye[i * 9] = 1.0f;
  EXPECT_ALL_CLOSE(uut, from_vector(eye, {8, 8}), 1e-5, 1e-5);
  std::vector<float> b = p[2].second.to_vector<float>();
  for (int i = 0; i < 32; ++i) EXPECT_EQ(b[i], i >= 8 && i < 16 ? 1.0f : 0.0f) << i;
  const double limit = std::sqrt(6.0 / (3 + 32));
  EXPECT_LE(max(abs(p[0].second)).item(), limit);
  EXPECT_GT(max(abs(p[0].second)).item(), 0.5 * limit);

  GRU gru({.units = 4});
  gru.build({1, 2, 3});
  EXPECT_EQ(gru.named_parameters()[2].second.shape(), (Shape{2, 12}));  // reset_after: input and recurrent biases
  GRU before({.units = 4, .reset_after = false});
  before.build({1, 2, 3});
  EXPECT_EQ(before.named_parameters()[2].second.shape(), (Shape{12}));
}

// Embedding(mask_zero) -> LSTM in a Sequential: the padded steps carry the state,
// so a padded sequence gives what its unpadded prefix gives.
TEST(Recurrent, MaskFromEmbeddingCarriesTheStateThroughPadding) {
  auto make = [] {
    auto net = std::make_shared<Sequential>(std::initializer_list<Layer>{
        Embedding({.input_dim = 10, .output_dim = 4, .mask_zero = true}), LSTM({.units = 6})});
    net->set_generator(std::make_shared<Generator>(3));
    return net;
  };
  auto net = make();
  Tensor padded = from_vector(std::vector<std::int64_t>{3, 7, 2, 0, 0, 5, 1, 0, 0, 0}, {2, 5});
  Tensor y = (*net)(padded);
  ASSERT_EQ(y.shape(), (Shape{2, 6}));
  Tensor a = (*net)(from_vector(std::vector<std::int64_t>{3, 7, 2}, {1, 3}));
  Tensor b = (*net)(from_vector(std::vector<std::int64_t>{5, 1}, {1, 2}));
  EXPECT_ALL_CLOSE(y.slice(0, 0, 1), a, 1e-6, 1e-6);
  EXPECT_ALL_CLOSE(y.slice(0, 1, 2), b, 1e-6, 1e-6);
  // Without the mask the padding would count: the outputs differ.
  auto unmasked = std::make_shared<Sequential>(std::initializer_list<Layer>{
      Embedding({.input_dim = 10, .output_dim = 4}), LSTM({.units = 6})});
  unmasked->set_generator(std::make_shared<Generator>(3));
  EXPECT_GT(max(abs((*unmasked)(padded) - y)).item(), 1e-4);
}

TEST(Recurrent, MaskingLayerMasksStepsOfMaskValue) {
  Masking m(-1.0);
  Tensor x = from_vector(std::vector<float>{1, 2, -1, -1, 3, -1, -1, -1}, {1, 4, 2});
  Outputs out = m.call({.inputs = {x}});
  EXPECT_EQ(out.masks[0].to(DType::i64).to_vector<std::int64_t>(), (std::vector<std::int64_t>{1, 0, 1, 0}));
  EXPECT_EQ(out.tensors[0].to_vector<float>(), (std::vector<float>{1, 2, 0, 0, 3, -1, 0, 0}));
}

TEST(Recurrent, RepeatVectorAndTimeDistributed) {
  Generator gen(5);
  Tensor v = randn({2, 3}, gen);
  v.set_requires_grad(true);
  Tensor r = RepeatVector(4)(v);
  ASSERT_EQ(r.shape(), (Shape{2, 4, 3}));
  EXPECT_ALL_CLOSE(r.select(1, 2), v, 0, 0);
  sum(r).backward();
  EXPECT_ALL_CLOSE(v.grad(), full({2, 3}, 4.0), 0, 0);  // each element used 4 times

  auto dense = std::make_shared<Dense>(DenseOptions{.units = 5, .activation = "softmax"});
  TimeDistributed td(dense);
  Tensor x = randn({2, 3, 4}, gen);
  Tensor y = td(x);
  ASSERT_EQ(y.shape(), (Shape{2, 3, 5}));
  EXPECT_EQ(td.activation(), "softmax");
  for (std::int64_t t = 0; t < 3; ++t) EXPECT_ALL_CLOSE(y.select(1, t), (*dense)(x.select(1, t)), 1e-6, 1e-6);
  EXPECT_ALL_CLOSE(td.call_linear(x), dense->call_linear(x.reshape({6, 4})).reshape({2, 3, 5}), 1e-6, 1e-6);
  EXPECT_EQ(td.named_parameters()[0].first, "layer.kernel");
}

// Bidirectional = the layer forwards, a go_backwards twin, merged; its config round-trips.
TEST(Recurrent, BidirectionalMergesBothDirections) {
  Generator gen(9);
  Tensor x = randn({2, 5, 3}, gen);
  for (const std::string mode : {"concat", "sum", "mul", "ave"}) {
    Bidirectional bi(GRU({.units = 4, .return_sequences = true}), mode);
    bi.set_generator(std::make_shared<Generator>(2));
    Tensor y = bi(x);
    ASSERT_EQ(y.shape(), (Shape{2, 5, mode == "concat" ? 8 : 4})) << mode;
    auto& f = dynamic_cast<Recurrent&>(bi.find("forward_gru"));
    auto& b = dynamic_cast<Recurrent&>(bi.find("backward_gru"));
    EXPECT_TRUE(b.options().go_backwards);
    Tensor fy = f(x), by = reverse_time(b(x));
    Tensor want = mode == "concat" ? concat({fy, by}, -1) : mode == "sum" ? fy + by : mode == "mul" ? fy * by : (fy + by) * 0.5;
    EXPECT_ALL_CLOSE(y, want, 1e-6, 1e-6) << mode;
  }
  Bidirectional bi(LSTM({.units = 3, .return_state = true}), "none");
  Outputs out = bi.call({.inputs = {x}});
  EXPECT_EQ(out.tensors.size(), 6u);  // two outputs, then (h, c) forwards and backwards
  auto again = layer_from_config("Bidirectional", bi.config_json());
  EXPECT_EQ(again->config_json(), bi.config_json());
}

TEST(Recurrent, DropoutIsOffInEvaluationAndSharedAcrossSteps) {
  LSTM lstm({.units = 4, .dropout = 0.5, .recurrent_dropout = 0.3, .return_sequences = true});
  lstm.set_generator(std::make_shared<Generator>(4));
  Generator gen(1);
  Tensor x = randn({3, 6, 5}, gen);
  lstm.train();
  Tensor a = lstm(x), b = lstm(x);
  EXPECT_GT(max(abs(a - b)).item(), 1e-4);  // a new mask each call
  lstm.eval();
  Tensor c = lstm(x), d = lstm(x);
  EXPECT_ALL_CLOSE(c, d, 0, 0);
  LSTM plain({.units = 4, .return_sequences = true});
  plain.build(x.shape());
  plain.load_state_dict(lstm.state_dict());
  EXPECT_ALL_CLOSE(c, plain(x), 1e-6, 1e-6);
}

TEST(Recurrent, BadInputsAreClearErrors) {
  LSTM lstm({.units = 4});
  auto message = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  Generator gen(2);
  EXPECT_NE(message([&] { lstm(randn({2, 3}, gen)); }).find("expects a sequence of rank 3 (batch, time, features), got shape [2, 3]"),
            std::string::npos);
  lstm(randn({2, 3, 5}, gen));
  EXPECT_NE(message([&] { lstm(randn({2, 3, 6}, gen)); }).find("was built for 5 features per step, got shape [2, 3, 6]"),
            std::string::npos);
  EXPECT_NE(message([&] { lstm.call({.inputs = {randn({2, 3, 5}, gen)}, .masks = {ones({2, 4}, DType::boolean)}}); })
                .find("expects a mask of shape [2, 3] for its input [2, 3, 5], got [2, 4]"),
            std::string::npos);
  EXPECT_NE(message([&] { lstm.call({.inputs = {randn({2, 3, 5}, gen)}, .initial_state = {zeros({2, 4})}}); })
                .find("expects 2 initial state tensor(s), got 1"),
            std::string::npos);
  EXPECT_NE(message([&] { lstm.call({.inputs = {randn({2, 3, 5}, gen)}, .initial_state = {zeros({2, 4}), zeros({2, 3})}}); })
                .find("expects initial states of shape [2, 4], got [2, 3]"),
            std::string::npos);
  EXPECT_NE(message([] { LSTM({.units = 0}); }).find("units >= 1"), std::string::npos);
  EXPECT_NE(message([] { GRU({.units = 2, .dropout = 1.0}); }).find("dropout in [0, 1)"), std::string::npos);
  Embedding emb({.input_dim = 5, .output_dim = 2});
  EXPECT_NE(message([&] { emb(from_vector(std::vector<std::int64_t>{1, 5}, {1, 2})); }).find("expects ids in [0, 4]"),
            std::string::npos);
  EXPECT_NE(message([&] { emb(from_vector(std::vector<float>{1.5f}, {1, 1})); }).find("whole-number ids, got 1.5"),
            std::string::npos);
  // A mask reaching a layer that cannot honour it.
  Sequential net({Embedding({.input_dim = 5, .output_dim = 2, .mask_zero = true}), Flatten()});
  EXPECT_NE(message([&] { net(from_vector(std::vector<std::int64_t>{1, 0}, {1, 2})); }).find("Flatten 'flatten' does not support masking"),
            std::string::npos);
  Sequential stateful({LSTM({.units = 2, .return_state = true})});
  EXPECT_NE(message([&] { stateful(randn({1, 2, 3}, gen)); }).find("returns 3 tensors"), std::string::npos);
  EXPECT_NE(message([] { layer_from_config("LSTM", R"({"units": 2.5})"); }).find("whole numbers"), std::string::npos);
  EXPECT_NE(message([] { layer_from_config("Lstm", "{}"); }).find("unknown layer type 'Lstm'"), std::string::npos);
}

// A custom layer registered by name loads like Cortex's own.
class Scale : public Module {
 public:
  explicit Scale(double k) : Module("Scale"), k_(k) {}
  Tensor forward(const Tensor& x) override { return x * k_; }
  std::string config_json() const override { return json{{"k", k_}}.dump(); }

 private:
  double k_;
};

TEST(LayerRegistry, CustomLayersLoadByName) {
  register_layer("Scale", [](const std::string& config) { return std::make_shared<Scale>(json::parse(config)["k"].get<double>()); });
  auto layer = layer_from_config("Scale", R"({"k": 2.5})");
  EXPECT_EQ(layer->type(), "Scale");
  EXPECT_ALL_CLOSE((*layer)(ones({2})), full({2}, 2.5), 0, 0);
}

}  // namespace
}  // namespace cortex::nn
