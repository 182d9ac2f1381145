// Pictures and charts: pixels against the tensors they show, saliency against
// gradients, occlusion against direct evaluation, charts against their data.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "cortex/io/image.h"
#include "cortex/nn/nn.h"
#include "cortex/viz/viz.h"
#include "support/check.h"

namespace cortex::viz {
namespace {

std::uint8_t expected_byte(float v, float lo, float hi) {
  return static_cast<std::uint8_t>(std::lround((v - lo) / (hi - lo) * 255.0));
}

// Pixel (y, x) of a u8 (H, W, 3) picture as {r, g, b}.
std::array<int, 3> pixel(const Tensor& image, std::int64_t y, std::int64_t x) {
  return {int(image.at({y, x, 0})), int(image.at({y, x, 1})), int(image.at({y, x, 2}))};
}

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(FilterGrid, PixelsMatchTheNormalisedWeightsOfEachGreyFilter) {
  Generator g(3);
  Tensor kernel = randn({3, 2, 1, 5}, g);  // (kh, kw, in, out): 5 grey 3x2 filters
  const std::int64_t scale = 4, border = 2, cols = 2;
  Tensor grid = filter_grid(kernel, {.scale = scale, .border = border, .columns = cols});
  // 3 rows of 2 tiles, each 12 x 8 pixels.
  ASSERT_EQ(grid.shape(), (Shape{3 * 12 + 4 * border, 2 * 8 + 3 * border, 3}));
  for (std::int64_t k = 0; k < 5; ++k) {
    std::vector<float> w;
    for (std::int64_t i = 0; i < 3; ++i)
      for (std::int64_t j = 0; j < 2; ++j) w.push_back(static_cast<float>(kernel.at({i, j, 0, k})));
    const float lo = *std::min_element(w.begin(), w.end()), hi = *std::max_element(w.begin(), w.end());
    const std::int64_t y0 = border + (k / cols) * (12 + border), x0 = border + (k % cols) * (8 + border);
    for (std::int64_t i = 0; i < 12; ++i)
      for (std::int64_t j = 0; j < 8; ++j) {
        const int v = expected_byte(w[(i / scale) * 2 + j / scale], lo, hi);
        ASSERT_EQ(pixel(grid, y0 + i, x0 + j), (std::array<int, 3>{v, v, v})) << "filter " << k << " at " << i << "," << j;
      }
  }
  // Borders and the unused sixth cell show the background, not a value.
  EXPECT_EQ(pixel(grid, 0, 0), (std::array<int, 3>{96, 128, 176}));
  EXPECT_EQ(pixel(grid, border + 2 * (12 + border) + 1, border + 8 + border + 1), (std::array<int, 3>{96, 128, 176}));
}

TEST(FilterGrid, RgbFiltersAreOneColourTileAndDeepFiltersOneTilePerInputChannel) {
  Generator g(4);
  Tensor rgb = randn({2, 2, 3, 2}, g);
  Tensor grid = filter_grid(rgb, {.scale = 1, .border = 1});
  ASSERT_EQ(grid.shape(), (Shape{2 + 2, 2 * 2 + 3, 3}));  // 2 tiles side by side, a 1-pixel border
  Tensor f1 = rgb.select(3, 1);
  const float lo = static_cast<float>(cortex::min(f1).item()), hi = static_cast<float>(cortex::max(f1).item());
  for (int c = 0; c < 3; ++c)
    EXPECT_EQ(int(grid.at({1 + 1, 1 + 2 + 1 + 1, c})), expected_byte(static_cast<float>(f1.at({1, 1, c})), lo, hi));

  Tensor deep = randn({3, 3, 4, 2}, g);  // 2 filters x 4 input channels
  Tensor grid2 = filter_grid(deep, {.scale = 2, .border = 1});
  EXPECT_EQ(grid2.shape(), (Shape{2 * 6 + 3, 4 * 6 + 5, 3}));  // a row per filter, a column per input channel
}

nn::Sequential small_cnn(const std::string& activation = "relu") {
  using namespace nn;
  Sequential net({Input({8, 8, 1}), Conv2D({.filters = 3, .kernel_size = {3, 3}, .activation = activation}), Flatten(),
                  Dense({.units = 4, .activation = "softmax"})});
  net.set_generator(std::make_shared<Generator>(7));
  net.build({1, 8, 8, 1});
  return net;
}

TEST(FilterGrid, ByNameListsTheLayersThereAreAndTheConvLayers) {
  nn::Sequential net = small_cnn();
  EXPECT_EQ(filter_grid(net, "conv2d", {.scale = 1, .border = 0}).shape(), (Shape{6, 6, 3}));  // 3 tiles, 2x2 grid
  try {
    filter_grid(net, "conv9");
    FAIL() << "no error for a missing layer";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("no layer named 'conv9'; the layers are: "), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("conv2d, flatten, dense"), std::string::npos) << e.what();
  }
  try {
    filter_grid(net, "dense");
    FAIL() << "no error for a dense layer";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("'dense' is a Dense; the conv layers are: conv2d"), std::string::npos)
        << e.what();
  }
}

TEST(FeatureMaps, LayerOutputIsTheLayerAppliedToItsInputAndLeavesTheModelAsItWas) {
  nn::Sequential net = small_cnn();
  Generator g(9);
  Tensor x = rand({1, 8, 8, 1}, g);
  net.train();
  Tensor a = layer_output(net, x, "conv2d");
  NoGradGuard no_grad;
  Tensor direct = (*net.layers()[0])(x);
  EXPECT_ALL_CLOSE(a, direct, 0, 0);
  EXPECT_TRUE(net.is_training());
  EXPECT_EQ(net.layers()[0]->forward_hook_count(), 0u);  // the hook is gone
  // ... also when the forward throws.
  EXPECT_THROW(layer_output(net, rand({1, 5, 5, 1}, g), "conv2d"), ShapeError);
  EXPECT_EQ(net.layers()[0]->forward_hook_count(), 0u);
  EXPECT_TRUE(net.is_training());

  Tensor grid = feature_map_grid(a, {.scale = 2, .border = 1});
  EXPECT_EQ(grid.shape(), (Shape{2 * 12 + 3, 2 * 12 + 3, 3}));  // 3 maps of 6x6 in a 2x2 grid
  // Each map is normalised on its own: its largest value is viridis(1).
  const Rgb top = viridis(1.0);
  std::int64_t iy = 0, ix = 0;
  {
    Tensor m0 = a.select(0, 0).select(2, 0).contiguous();
    std::int64_t best = 0;
    auto v = m0.to_vector<float>();
    for (std::size_t i = 0; i < v.size(); ++i)
      if (v[i] > v[best]) best = static_cast<std::int64_t>(i);
    iy = best / 6, ix = best % 6;
  }
  EXPECT_EQ(pixel(grid, 1 + 2 * iy, 1 + 2 * ix), (std::array<int, 3>{top.r, top.g, top.b}));
  EXPECT_THROW(feature_map_grid(rand({2, 3, 3, 1}, g)), ShapeError);
}

// Flatten then Dense(units, activation) on (side, side, 1) images, built from `seed`.
std::shared_ptr<nn::Sequential> linear_model(std::int64_t side, std::int64_t units, const std::string& activation,
                                             std::uint64_t seed) {
  using namespace nn;
  auto net = std::make_shared<Sequential>(
      std::initializer_list<Layer>{Input({side, side, 1}), Flatten(), Dense({.units = units, .activation = activation})});
  net->set_generator(std::make_shared<Generator>(seed));
  net->build({1, side, side, 1});
  return net;
}

TEST(Saliency, IsTheWeightColumnOfALinearModel) {
  auto model = linear_model(4, 3, "softmax", 1);
  nn::Sequential& net = *model;
  Generator g(2);
  Tensor x = rand({1, 4, 4, 1}, g);
  Tensor grad = saliency(net, x, 2);
  Tensor kernel = net.named_parameters()[0].second;  // (16, 3)
  EXPECT_ALL_CLOSE(grad.reshape({16}), kernel.select(1, 2).contiguous(), 1e-6, 1e-7);
}

TEST(Saliency, ASigmoidUnitHasTwoClasses) {
  // One logit stands for classes 0 and 1 (as classify and occlusion take it): class 1's
  // gradient is the weight column, class 0's its negative.
  auto model = linear_model(2, 1, "sigmoid", 3);
  nn::Sequential& net = *model;
  Generator g(4);
  Tensor x = rand({1, 2, 2, 1}, g);
  Tensor kernel = net.named_parameters()[0].second.select(1, 0).contiguous();  // (4)
  EXPECT_ALL_CLOSE(saliency(net, x, 1).reshape({4}), kernel, 1e-6, 1e-7);
  EXPECT_ALL_CLOSE(saliency(net, x, 0).reshape({4}), -kernel, 1e-6, 1e-7);
  EXPECT_THROW(saliency(net, x, 2), ValueError);
}

TEST(Saliency, MatchesCentralDifferencesOfTheClassScore) {
  nn::Sequential net = small_cnn("tanh");  // smooth, so differences are meaningful
  Generator g(5);
  Tensor x = rand({1, 8, 8, 1}, g);
  const std::int64_t cls = 1;
  Tensor grad = saliency(net, x, cls);
  NoGradGuard no_grad;
  net.eval();
  auto score = [&](const Tensor& in) { return net.forward_logits(in).at({0, cls}); };
  const double eps = 1e-2;
  for (std::int64_t i : {0, 9, 27, 40, 63}) {
    Tensor plus = x.clone(), minus = x.clone();
    plus.data<float>()[i] += static_cast<float>(eps);
    minus.data<float>()[i] -= static_cast<float>(eps);
    const double numeric = (score(plus) - score(minus)) / (2 * eps);
    EXPECT_NEAR(grad.data<float>()[i], numeric, 2e-3 + 1e-2 * std::abs(numeric)) << "pixel " << i;
  }
  EXPECT_THROW(saliency(net, x, 4), ValueError);
  // The parameters' gradients are as they were (none here).
  for (const Tensor& p : net.parameters()) EXPECT_FALSE(p.grad().defined());
  Tensor picture = saliency_picture(x, grad, 3);
  EXPECT_EQ(picture.shape(), (Shape{24, 3 * 24 + 2 * 4, 3}));
}

TEST(Occlusion, ABlankRegionChangesNothingAndContentDoes) {
  nn::Sequential net = small_cnn();
  Generator g(6);
  Tensor x = zeros({1, 8, 8, 1});
  x.slice(1, 0, 3).slice(2, 0, 3).copy_(rand({1, 3, 3, 1}, g) + 0.5);  // content in the top-left 3x3 only
  const OcclusionOptions o{.patch = 2, .stride = 1, .fill = 0.0f, .batch_size = 10};  // several batches
  Tensor map = occlusion(net, x, 0, o);
  ASSERT_EQ(map.shape(), (Shape{7, 7}));
  double content_effect = 0;
  for (std::int64_t r = 0; r < 7; ++r)
    for (std::int64_t c = 0; c < 7; ++c) {
      const bool blank = r >= 3 || c >= 3;  // the patch covers only zeros
      if (blank)
        EXPECT_NEAR(map.at({r, c}), 0.0, 1e-6) << "position " << r << "," << c;
      else
        content_effect = std::max(content_effect, std::abs(map.at({r, c})));
    }
  EXPECT_GT(content_effect, 1e-4);

  // One position against the probabilities computed directly.
  NoGradGuard no_grad;
  net.eval();
  Tensor covered = x.clone();
  covered.slice(1, 1, 3).slice(2, 0, 2).fill_(0.0);
  const double direct = softmax(net.forward_logits(x)).at({0, 0}) - softmax(net.forward_logits(covered)).at({0, 0});
  EXPECT_NEAR(map.at({1, 0}), direct, 1e-5);

  EXPECT_EQ(occlusion_picture(x, map, o, 2).shape(), (Shape{16, 3 * 16 + 8, 3}));
  EXPECT_THROW(occlusion(net, x, 0, {.patch = 9}), ValueError);
}

TEST(Charts, NiceTicksAreRoundAndCoverTheRange) {
  auto t = nice_ticks(0.0, 1.0);
  ASSERT_EQ(t.size(), 6u);
  for (std::size_t i = 0; i < t.size(); ++i) EXPECT_NEAR(t[i], 0.2 * static_cast<double>(i), 1e-12);
  // Degenerate ranges end quickly with finite ticks.
  auto big = nice_ticks(1e5, 1e5 + 1e-11);
  EXPECT_LE(big.size(), 30u);
  EXPECT_EQ(nice_ticks(2.0, 2.0), (std::vector<double>{2.0}));
  EXPECT_THROW(nice_ticks(0, INFINITY), ValueError);
  std::string flat = curves_svg({0, 1}, {{"loss", {1e5, 1e5 + 1e-11}}});
  EXPECT_EQ(flat.find("nan"), std::string::npos);
  auto u = nice_ticks(0.23, 0.91);
  EXPECT_LE(u.front(), 0.23);
  EXPECT_GE(u.back(), 0.91);
  EXPECT_NEAR(u[1] - u[0], 0.2, 1e-12);  // 0.68 / 5 = 0.136 rounds up to 0.2
  EXPECT_THROW(nice_ticks(1.0, 0.0), ValueError);
}

TEST(Charts, CurvesDrawOnePolylinePerSeriesAndPairValidation) {
  std::map<std::string, std::vector<double>> logs = {
      {"loss", {1.0, 0.5, 0.25}}, {"val_loss", {1.1, 0.7, 0.6}}, {"accuracy", {0.5, 0.7, 0.9}}};
  std::string svg = curves_svg({0, 1, 2}, logs, "a <run>");
  EXPECT_EQ(occurrences(svg, "<polyline"), 3);
  EXPECT_EQ(std::count(svg.begin(), svg.end(), '<') - std::count(svg.begin(), svg.end(), '>'), 0);
  EXPECT_NE(svg.find("a &lt;run&gt;"), std::string::npos);
  EXPECT_NE(svg.find(">validation<"), std::string::npos);
  // Two panels (loss with val_loss, accuracy), loss first.
  EXPECT_LT(svg.find(">loss<"), svg.find(">accuracy<"));
  EXPECT_THROW(curves_svg({0, 1}, logs), ValueError);
}

TEST(Charts, ConfusionShowsEveryCountAndNamesEveryClass) {
  Tensor counts = from_vector(std::vector<std::int64_t>{5, 1, 0, 2, 7, 3, 0, 4, 9}, {3, 3});
  std::string svg = confusion_svg(counts, {"cat", "dog", "b&w"});
  for (int v : {5, 1, 2, 7, 3, 4, 9}) EXPECT_NE(svg.find(">" + std::to_string(v) + "</text>"), std::string::npos) << v;
  EXPECT_NE(svg.find(">b&amp;w</text>"), std::string::npos);
  EXPECT_THROW(confusion_svg(counts, {"cat", "dog"}), ValueError);
  EXPECT_THROW(confusion_svg(zeros({2, 3}), {"a", "b"}), ShapeError);
}

TEST(Pictures, PngInMemoryAndSvgFilesCarryThePixels) {
  Generator g(8);
  Tensor image = tile_grid(rand({2, 3, 3, 3}, g), {.scale = 2, .border = 1});
  const std::string dir = (std::filesystem::temp_directory_path() / ("cortex_viz_" + std::to_string(::getpid()))).string();
  std::filesystem::create_directories(dir);
  write_picture(dir + "/p.png", image);
  EXPECT_ALL_CLOSE(io::read_png(dir + "/p.png").to(DType::f32), image.to(DType::f32), 0, 0);
  std::string bytes = io::encode_png(image);
  EXPECT_EQ(bytes.substr(1, 3), "PNG");
  write_picture(dir + "/p.svg", image, "two tiles");
  std::ifstream in(dir + "/p.svg");
  std::string svg((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(svg.find("data:image/png;base64," + base64(bytes)), std::string::npos);
  EXPECT_NE(svg.find("<title>two tiles</title>"), std::string::npos);
  EXPECT_THROW(write_picture(dir + "/p.jpg", image), ValueError);
  EXPECT_THROW(tile_grid(rand({1, 3, 3, 1}, g), {.scale = std::int64_t{1} << 40}), ValueError);  // too large, no overflow
  EXPECT_THROW(normalize01(from_vector(std::vector<float>{0, INFINITY})), ValueError);
  // A negative gap would copy each row past the picture's width.
  Tensor wide = Tensor::empty({2, 20, 3}, DType::u8), narrow = Tensor::empty({2, 5, 3}, DType::u8);
  EXPECT_THROW(hstack({wide, narrow}, -10), ValueError);
  EXPECT_THROW(hstack({wide, narrow}, std::int64_t{1} << 40), ValueError);
  EXPECT_EQ(hstack({wide, narrow}, 3).shape(), (Shape{2, 28, 3}));
  EXPECT_EQ(base64("Ma"), "TWE=");
  EXPECT_EQ(base64("Man"), "TWFu");
  EXPECT_EQ(base64("M"), "TQ==");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cortex::viz
