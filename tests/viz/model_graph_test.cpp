// The layer graph (Keras's plot_model): boxes, shapes and connections of
// Sequential and functional models, the DOT text, and drawing it with Graphviz.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cortex/cortex.h"
#include "support/check.h"

namespace cortex::viz {
namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ModelGraph, SequentialIsAChainWithShapes) {
  nn::Sequential seq({nn::Input({28, 28, 1}), nn::Conv2D({.filters = 4, .kernel_size = {3, 3}}), nn::Flatten(),
                      nn::Dense({.units = 10})});
  const ModelGraph g = model_graph(seq);
  ASSERT_EQ(g.boxes.size(), 4u);
  EXPECT_EQ(g.boxes[0].type, "InputLayer");
  EXPECT_EQ(g.boxes[0].output_shape, "(None, 28, 28, 1)");
  EXPECT_EQ(g.boxes[1].name, "conv2d");
  EXPECT_EQ(g.boxes[1].output_shape, "(None, 26, 26, 4)");
  EXPECT_EQ(g.boxes[1].params, 3 * 3 * 4 + 4);
  EXPECT_EQ(g.boxes[3].input_shape, "(None, 2704)");
  EXPECT_EQ(g.boxes[3].output_shape, "(None, 10)");
  EXPECT_EQ(g.edges, (std::vector<std::pair<int, int>>{{0, 1}, {1, 2}, {2, 3}}));
  EXPECT_ERROR_CONTAINS(model_graph(*std::make_shared<nn::Sequential>()), ValueError, "needs its input shape");
}

// A shared layer is one box fed by each of its calls; a merge has two inputs.
TEST(ModelGraph, FunctionalWithASharedLayerAndAMerge) {
  auto a = nn::Input({5}, "left"), b = nn::Input({5}, "right");
  auto shared = std::make_shared<nn::Dense>(nn::DenseOptions{.units = 3});
  auto ha = (*shared)(a), hb = (*shared)(b);
  auto joined = nn::Concatenate()({ha, hb});
  nn::Functional f({a, b}, {nn::Dense({.units = 1, .activation = "sigmoid"})(joined)});
  const ModelGraph g = model_graph(f);
  ASSERT_EQ(g.boxes.size(), 5u);  // left, right, dense (once), concatenate, dense_1
  EXPECT_EQ(g.boxes[0].name, "left");
  EXPECT_EQ(g.boxes[1].name, "right");
  EXPECT_EQ(g.boxes[2].name, "dense");
  EXPECT_EQ(g.boxes[2].output_shape, "(None, 3)");
  EXPECT_EQ(g.boxes[3].type, "Concatenate");
  EXPECT_EQ(g.boxes[3].input_shape, "[(None, 3), (None, 3)]");
  EXPECT_EQ(g.boxes[3].output_shape, "(None, 6)");
  EXPECT_EQ(g.boxes[4].params, 7);
  // dense is fed by both inputs; concatenate by dense once (its two calls: one arrow)
  EXPECT_EQ(g.edges, (std::vector<std::pair<int, int>>{{0, 2}, {1, 2}, {2, 3}, {3, 4}}));
  const std::string dot = model_dot(g, "two|towers");
  EXPECT_NE(dot.find("n3 [label=\"{concatenate: Concatenate|{input:|output:}|{[(None, 3), (None, 3)]|(None, 6)}}\"]"),
            std::string::npos)
      << dot;
  EXPECT_NE(dot.find("n0 -> n2;"), std::string::npos);
  EXPECT_NE(dot.find("label=\"two\\|towers\""), std::string::npos) << dot;
}

TEST(ModelGraph, FreeAxesAndRecurrentLayers) {
  auto ids = nn::Input({-1}, "chars");
  auto h = nn::Embedding({.input_dim = 20, .output_dim = 4})(ids);
  h = nn::LSTM({.units = 8, .return_sequences = true})(h);
  nn::Functional f({ids}, {nn::Dense({.units = 20})(h)});
  const ModelGraph g = model_graph(f);
  ASSERT_EQ(g.boxes.size(), 4u);
  EXPECT_EQ(g.boxes[0].output_shape, "(None, None)");
  EXPECT_EQ(g.boxes[2].output_shape, "(None, None, 8)");
  EXPECT_EQ(g.boxes[2].params, 4 * 32 + 8 * 32 + 32);
}

TEST(ModelGraph, DotDrawsSvgAndPng) {
  nn::Sequential seq({nn::Input({4}), nn::Dense({.units = 2})});
  const fs::path dir = fs::temp_directory_path() / "cortex_model_graph_test";
  fs::create_directories(dir);
  const fs::path dot = dir / "m.dot";
  std::ofstream(dot) << model_dot(model_graph(seq), "m");
  render_dot(dot.string(), (dir / "m.svg").string());
  const std::string svg = read(dir / "m.svg");
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("dense: Dense"), std::string::npos);
  render_dot(dot.string(), (dir / "m.png").string());
  EXPECT_EQ(read(dir / "m.png").substr(1, 3), "PNG");
  EXPECT_ERROR_CONTAINS(render_dot(dot.string(), (dir / "m.jpg").string()), ValueError, "as .svg or .png");
  EXPECT_ERROR_CONTAINS(render_dot(dot.string(), (dir / "x.svg").string(), "no-such-graphviz-dot"), Error,
                        "apt-get install graphviz");
  EXPECT_FALSE(fs::exists(dir / "x.svg"));
  std::ofstream(dir / "bad.dot") << "digraph { this is not dot";
  EXPECT_ERROR_CONTAINS(render_dot((dir / "bad.dot").string(), (dir / "bad.svg").string()), Error, "exit status");
  EXPECT_FALSE(fs::exists(dir / "bad.svg"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace cortex::viz
