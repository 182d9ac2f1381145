// The run record and report: what fit writes with report_dir, the page's
// structure and images, its figures against evaluate, and the page in a browser.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include <sys/wait.h>

#include "support.h"
#include "support/check.h"

namespace cortex::train {
namespace {

using testing::read_file;
using testing::temp_path;

std::string unbase64(const std::string& s) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
  };
  std::string out;
  unsigned bits = 0;
  int n = 0;
  for (char c : s) {
    const int v = value(c);
    if (v < 0) break;  // '=' padding
    bits = (bits << 6) | static_cast<unsigned>(v);
    if ((n += 6) >= 8) out += static_cast<char>((bits >> (n -= 8)) & 0xff);
  }
  return out;
}

// Checks that every element is closed in order (void elements excepted) and
// collects each <img>'s attributes.
struct Page {
  bool balanced = true;
  std::string problem;
  std::vector<std::map<std::string, std::string>> images;
};

Page parse(const std::string& html) {
  static const std::set<std::string> kVoid = {"meta", "img", "br", "hr", "link", "input"};
  Page page;
  std::vector<std::string> open;
  for (std::size_t at = html.find('<'); at != std::string::npos; at = html.find('<', at + 1)) {
    const std::size_t end = html.find('>', at);
    if (end == std::string::npos) return {false, "unterminated tag", {}};
    std::string tag = html.substr(at + 1, end - at - 1);
    if (tag.rfind("!", 0) == 0) continue;  // doctype
    const bool closing = tag.rfind("/", 0) == 0;
    std::string name = tag.substr(closing, tag.find_first_of(" />", closing) - closing);
    if (closing) {
      if (open.empty() || open.back() != name) return {false, "</" + name + "> closes " + (open.empty() ? "nothing" : open.back()), {}};
      open.pop_back();
      continue;
    }
    if (name == "img") {
      std::map<std::string, std::string> attrs;
      for (std::size_t a = tag.find('='); a != std::string::npos; a = tag.find('=', a + 1)) {
        std::size_t key_start = tag.rfind(' ', a) + 1;
        std::size_t q = tag.find('"', a + 2);
        attrs[tag.substr(key_start, a - key_start)] = tag.substr(a + 2, q - a - 2);
        a = q;
      }
      page.images.push_back(attrs);
    }
    if (!kVoid.count(name) && tag.back() != '/') open.push_back(name);
    if (name == "style") at = html.find("</style>", end) - 1;  // CSS is text
  }
  if (!open.empty()) return {false, "<" + open.back() + "> is never closed", {}};
  return page;
}

// 8x8 grey images of three classes: a bright row band at the top, middle or bottom.
std::pair<Tensor, Tensor> band_images(std::int64_t n, std::uint64_t seed) {
  Generator g(seed);
  Tensor x = rand({n, 8, 8, 1}, g) * 0.3;
  std::vector<std::int64_t> labels;
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t k = i % 3;
    x.select(0, i).slice(0, 1 + 2 * k, 3 + 2 * k).fill_(1.0);
    labels.push_back(k);
  }
  return {x, data::to_categorical(from_vector(labels, {n}), 3)};
}

std::unique_ptr<Model> band_model() {
  using namespace nn;
  auto m = std::make_unique<Sequential>(
      std::initializer_list<Layer>{Input({8, 8, 1}), Conv2D({.filters = 4, .kernel_size = {3, 3}, .activation = "relu"}),
                                   Flatten(), Dense({.units = 3, .activation = "softmax"})},
      3);
  m->compile({.loss = "categorical_crossentropy", .optimizer = std::make_shared<optim::Adam>(), .metrics = {"accuracy"}});
  return m;
}

class Report : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_path("run_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
    auto [x, y] = band_images(96, 1);
    x_ = x, y_ = y;
    model_ = band_model();
    history_ = model_->fit(x, y, {.batch_size = 16, .epochs = 2, .verbose = 0, .validation_split = 0.25,
                                  .report_dir = dir_,
                                  .report = {.class_names = {"top", "middle", "bottom"},
                                             .settings = {{"dataset", "bands"}},
                                             .confused_examples = 5}});
  }
  std::string dir_;
  Tensor x_, y_;
  std::unique_ptr<Model> model_;
  History history_;
};

TEST_F(Report, FitRecordsTheRunAndTheLogReadsBackAsTheHistory) {
  for (const char* f : {"settings.json", "history.csv", "model.cortex", "report.html"})
    EXPECT_TRUE(std::filesystem::exists(dir_ + "/" + f)) << f;
  History logged = read_csv_log(dir_ + "/history.csv");
  EXPECT_EQ(logged.epochs, history_.epochs);
  ASSERT_EQ(logged.history.size(), history_.history.size());
  for (const auto& [k, v] : history_.history) {
    ASSERT_EQ(logged.history[k].size(), v.size()) << k;
    for (std::size_t i = 0; i < v.size(); ++i) EXPECT_EQ(logged.history[k][i], v[i]) << k << " " << i;
  }
  std::vector<std::string> names;
  Settings s = read_settings(dir_, &names);
  EXPECT_EQ(names, (std::vector<std::string>{"top", "middle", "bottom"}));
  std::map<std::string, std::string> m(s.begin(), s.end());
  EXPECT_EQ(m["batch_size"], "16");
  EXPECT_EQ(m["training examples"], "72");
  EXPECT_EQ(m["validation examples"], "24");
  EXPECT_EQ(m["dataset"], "bands");
  EXPECT_EQ(m["optimizer"].rfind("Adam (", 0), 0u) << m["optimizer"];
  // The saved model is the trained one.
  auto loaded = load_model(dir_ + "/model.cortex");
  EXPECT_ALL_CLOSE(loaded->predict(x_), model_->predict(x_), 0, 0);
}

TEST_F(Report, PageParsesAndInlinesEveryImageItNames) {
  const std::string html = read_file(dir_ + "/report.html");
  Page page = parse(html);
  ASSERT_TRUE(page.balanced) << page.problem;
  std::set<std::string> kinds;
  for (const auto& img : page.images) {
    const std::string& src = img.at("src");
    ASSERT_FALSE(img.at("alt").empty());
    const std::string png = "data:image/png;base64,", svg = "data:image/svg+xml;base64,";
    if (src.rfind(png, 0) == 0) {
      EXPECT_EQ(unbase64(src.substr(png.size())).substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << img.at("alt");
      kinds.insert("png");
    } else {
      ASSERT_EQ(src.rfind(svg, 0), 0u) << "an image that is not inlined: " << src.substr(0, 60);
      const std::string text = unbase64(src.substr(svg.size()));
      EXPECT_EQ(text.rfind("<svg", 0), 0u) << img.at("alt");
      EXPECT_TRUE(parse(text).balanced) << img.at("alt") << ": " << parse(text).problem;
      kinds.insert("svg");
    }
  }
  EXPECT_EQ(kinds, (std::set<std::string>{"png", "svg"}));
  for (const char* id : {"id=\"curves\"", "id=\"confusion\"", "id=\"filters\""})
    EXPECT_NE(html.find(id), std::string::npos) << id;
  // The settings, the summary and the class names are on the page.
  EXPECT_NE(html.find("<th>batch_size</th><td>16</td>"), std::string::npos);
  EXPECT_NE(html.find("Total params: 475"), std::string::npos);  // conv 9*4+4, dense 6*6*4*3+3
}

// The confusion matrix as the page draws it: each cell's title is "<true> as <predicted>: <count>".
std::map<std::pair<std::string, std::string>, long> page_confusion(const std::string& html) {
  const std::size_t at = html.find("id=\"confusion\"");
  const std::string prefix = "data:image/svg+xml;base64,";
  const std::size_t src = html.find(prefix, at) + prefix.size();
  const std::string svg = unbase64(html.substr(src, html.find('"', src) - src));
  std::map<std::pair<std::string, std::string>, long> cells;
  for (std::size_t t = svg.find("<title>"); t != std::string::npos; t = svg.find("<title>", t + 1)) {
    const std::string title = svg.substr(t + 7, svg.find("</title>", t) - t - 7);
    const std::size_t as = title.find(" as "), colon = title.rfind(": ");
    if (as == std::string::npos || colon == std::string::npos) continue;
    cells[{title.substr(0, as), title.substr(as + 4, colon - as - 4)}] = std::stol(title.substr(colon + 2));
  }
  return cells;
}

TEST_F(Report, ConfusionOnThePageSumsToTheDataWithEvaluatesAccuracyOnItsDiagonal) {
  const auto cells = page_confusion(read_file(dir_ + "/report.html"));
  ASSERT_EQ(cells.size(), 9u);
  long total = 0, right = 0;
  for (const auto& [where, count] : cells) {
    total += count;
    if (where.first == where.second) right += count;
  }
  EXPECT_EQ(total, 24);  // the validation split: the last quarter of 96
  Tensor x_val = x_.slice(0, 72, 96), y_val = y_.slice(0, 72, 96);
  const double accuracy = model_->evaluate(x_val, y_val)["accuracy"];
  EXPECT_NEAR(static_cast<double>(right) / 24.0, accuracy, 1e-12);
  EXPECT_NEAR(history_.history["val_accuracy"].back(), accuracy, 1e-12);
  // Row "top" holds the validation examples whose label is 0.
  long top = 0;
  for (const auto& [where, count] : cells)
    if (where.first == "top") top += count;
  EXPECT_EQ(top, static_cast<long>(sum(y_val.select(1, 0)).item()));
}

TEST_F(Report, EveryImageLoadsInAHeadlessBrowser) {
  const char* chromium = "/usr/bin/chromium";
  if (!std::filesystem::exists(chromium)) GTEST_SKIP() << "chromium is not installed (apt-get install chromium)";
  // A copy of the page with a probe that counts the images the browser decoded.
  std::string html = read_file(dir_ + "/report.html");
  const std::string probe =
      "<script>window.addEventListener('load', () => { const all = [...document.images]; "
      "document.body.setAttribute('data-loaded', all.filter(i => i.complete && i.naturalWidth > 0).length + '/' + "
      "all.length); });</script>";
  html.insert(html.rfind("</body>"), probe);
  const std::string probed = dir_ + "/probed.html";
  std::ofstream(probed) << html;
  // A time limit, its own profile directory and the log kept for the failure message.
  const std::string profile = dir_ + "/chromium-profile", log = dir_ + "/chromium.log";
  const std::string command = "timeout 120 " + std::string(chromium) +
                              " --headless --no-sandbox --disable-gpu --virtual-time-budget=10000 --user-data-dir='" +
                              profile + "' --dump-dom 'file://" + probed + "' 2>'" + log + "'";
  std::FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string dom;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) dom.append(buf, n);
  const int status = ::pclose(pipe);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "chromium failed (exit " << (WIFEXITED(status) ? WEXITSTATUS(status) : -1) << "): " << read_file(log);
  const std::size_t at = dom.find("data-loaded=\"");
  ASSERT_NE(at, std::string::npos) << "the probe did not run";
  const std::string loaded = dom.substr(at + 13, dom.find('"', at + 13) - at - 13);
  const std::size_t images = parse(read_file(dir_ + "/report.html")).images.size();
  EXPECT_EQ(loaded, std::to_string(images) + "/" + std::to_string(images));
  EXPECT_GE(images, 4u);  // curves, confusion, filters, at least one confused example
}

TEST(ReportOptions, AWrongNumberOfClassNamesFailsBeforeTraining) {
  auto [x, y] = band_images(24, 2);
  auto model = band_model();
  model->network().build(x.shape());
  Tensor before = model->network().named_parameters()[0].second.clone();
  const std::string dir = temp_path("run_bad_names");
  try {
    model->fit(x, y, {.batch_size = 8, .epochs = 1, .verbose = 0, .report_dir = dir,
                      .report = {.class_names = {"a", "b"}}});
    FAIL() << "no error";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("expects 3 class names"), std::string::npos) << e.what();
  }
  EXPECT_ALL_CLOSE(model->network().named_parameters()[0].second, before, 0, 0);  // no step was taken
  EXPECT_FALSE(std::filesystem::exists(dir + "/history.csv"));
}

TEST(ReadCsvLog, BadFilesNameTheFileAndLine) {
  auto expect_error = [](const std::string& text, const std::string& words) {
    const std::string path = temp_path("bad.csv");
    std::ofstream(path) << text;
    try {
      read_csv_log(path);
      ADD_FAILURE() << "no error for: " << text;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  expect_error("", "empty file");
  expect_error("loss,epoch\n0.5,0\n", ":1: expected a header starting with 'epoch'");
  expect_error("epoch,loss\n0,0.5\n1\n", ":3: expected 2 fields, found 1");
  expect_error("epoch,loss\n0,abc\n", ":2: 'abc' is not a number");
  expect_error("epoch,loss\n0.5,1\n", "whole number");
  EXPECT_THROW(read_csv_log(temp_path("missing.csv")), Error);
  EXPECT_THROW(read_settings(temp_path("no_run_here")), Error);
}

}  // namespace
}  // namespace cortex::train
