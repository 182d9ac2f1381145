// Character-level language modelling: the vocabulary, stream batches,
// stateful recurrent layers (truncated backpropagation through time),
// sampling, a model's saved metadata, and their bad inputs.
#include <cmath>
#include <filesystem>
#include <fstream>

#include "cortex/cortex.h"
#include "cortex/io/tensor_file.h"
#include "support/check.h"

namespace cortex::seq {
namespace {

namespace fs = std::filesystem;

fs::path temp_file(const std::string& name) { return fs::temp_directory_path() / ("cortex_text_test_" + name); }

TEST(CharVocabulary, SortedDistinctBytesAndTheirIds) {
  const CharVocabulary v = CharVocabulary::of("banana\n");
  EXPECT_EQ(v.chars, "\nabn");
  EXPECT_EQ(v.encode("nab", "x"), (std::vector<std::int64_t>{3, 1, 2}));
  EXPECT_EQ(v.decode({2, 1, 3, 0}), "ban\n");
  EXPECT_ERROR_CONTAINS(v.decode({4}), IndexError, "character id 4 is outside the vocabulary [0, 4)");
}

TEST(CharVocabulary, BytesOutsideTheVocabularyAreNamedWithTheirPosition) {
  const CharVocabulary v = CharVocabulary::of("abc");
  EXPECT_ERROR_CONTAINS(v.encode("abz", "the prime"), ValueError,
                        "the prime has 'z' (byte 122) at position 2, which is not in the model's vocabulary of 3");
  EXPECT_ERROR_CONTAINS(v.encode(std::string("a\xff", 2), "the prime"), ValueError, "byte 255 at position 1");
  EXPECT_ERROR_CONTAINS(CharVocabulary::of(""), ValueError, "got an empty one");
}

TEST(CharVocabulary, JsonRoundTripKeepsEveryByte) {
  const std::string all = std::string("\0\x01 z\x7f\x80\xff", 7);
  const CharVocabulary v = CharVocabulary::of(all);
  ASSERT_EQ(v.size(), 7);
  EXPECT_EQ(CharVocabulary::from_json(v.to_json()).chars, v.chars);
  EXPECT_ERROR_CONTAINS(CharVocabulary::from_json("{\"a\": 1}"), ValueError, "non-empty JSON array");
  EXPECT_ERROR_CONTAINS(CharVocabulary::from_json("[]"), ValueError, "non-empty JSON array");
  EXPECT_ERROR_CONTAINS(CharVocabulary::from_json("[65, 256]"), ValueError, "byte values 0..255, got 256");
  EXPECT_ERROR_CONTAINS(CharVocabulary::from_json("[66, 65]"), ValueError, "increasing order, got 65 after 66");
  EXPECT_ERROR_CONTAINS(CharVocabulary::from_json("[65, \"B\"]"), ValueError, "got \"B\"");
  EXPECT_ERROR_CONTAINS(CharVocabulary::from_json("[65,"), ValueError, "character vocabulary");
}

TEST(TextFile, MissingAndEmptyFilesAreNamed) {
  const fs::path empty = temp_file("empty.txt");
  std::ofstream(empty).close();
  EXPECT_ERROR_CONTAINS(read_text_file(empty.string()), ValueError, "is empty");
  EXPECT_ERROR_CONTAINS(read_text_file((empty.string() + ".missing")), ValueError, "cannot read the text file");
  const fs::path some = temp_file("some.txt");
  std::ofstream(some, std::ios::binary) << std::string("a\0b", 3);
  EXPECT_EQ(read_text_file(some.string()), std::string("a\0b", 3));
  fs::remove(empty);
  fs::remove(some);
}

// Row b * batch + j holds stream j's b-th window; y is x one id further on.
TEST(StreamBatches, EachRowContinuesTheSameRowOfTheBatchBefore) {
  std::vector<std::int64_t> ids(103);
  for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<std::int64_t>(i);
  const StreamBatches s = stream_batches(ids, 4, 6);  // streams of (103 - 1) / 4 = 25 ids: 4 windows of 6
  ASSERT_EQ(s.batches, 4);
  ASSERT_EQ(s.x.shape(), (Shape{16, 6}));
  for (std::int64_t b = 0; b < 4; ++b)
    for (std::int64_t j = 0; j < 4; ++j)
      for (std::int64_t t = 0; t < 6; ++t) {
        const double want = static_cast<double>(j * 25 + b * 6 + t);
        ASSERT_EQ(s.x.select(0, b * 4 + j).select(0, t).item(), want) << b << " " << j << " " << t;
        ASSERT_EQ(s.y.select(0, b * 4 + j).select(0, t).item(), want + 1);
      }
  EXPECT_ERROR_CONTAINS(stream_batches(ids, 20, 6), ValueError,
                        "a text of 103 characters is too short for one batch of 20 streams of 6 steps (needs at least 121)");
  EXPECT_ERROR_CONTAINS(stream_batches(ids, 0, 6), ValueError, "batch >= 1");
}

// A stateful layer called on two halves gives what one call on the whole sequence gives;
// reset_states starts afresh; another batch size is refused until a reset.
void expect_stateful_halves_match_whole(backend::Backend which, bool masked) {
  backend::BackendScope scope(which);
  Generator gen(4);
  Tensor x = randn({3, 8, 5}, gen);
  nn::LSTM whole({.units = 6, .return_sequences = true}), halves({.units = 6, .return_sequences = true, .stateful = true});
  whole.set_generator(std::make_shared<Generator>(9));
  halves.set_generator(std::make_shared<Generator>(9));
  nn::Call all{.inputs = {x}}, first{.inputs = {x.slice(1, 0, 4)}}, second{.inputs = {x.slice(1, 4, 8)}};
  if (masked) {
    Tensor mask = ne(bernoulli({3, 8}, 0.7, gen), zeros({1}));
    all.masks = {mask};
    first.masks = {mask.slice(1, 0, 4)};
    second.masks = {mask.slice(1, 4, 8)};
  }
  const Tensor y = whole.call(all).tensors[0];
  const Tensor y1 = halves.call(first).tensors[0];
  ASSERT_EQ(halves.carried_states().size(), 2u);
  const Tensor y2 = halves.call(second).tensors[0];
  EXPECT_ALL_CLOSE(concat({y1, y2}, 1), y, 1e-5, 1e-6);
  EXPECT_ERROR_CONTAINS(halves.call({.inputs = {x.slice(0, 0, 2)}}), ValueError,
                        "carries states for a batch of 3 on cpu, got a batch of 2");
  halves.reset_states();
  EXPECT_TRUE(halves.carried_states().empty());
  EXPECT_ALL_CLOSE(halves.call(first).tensors[0], y1, 0, 0);
}

TEST(Stateful, HalvesMatchTheWholeSequenceFused) { expect_stateful_halves_match_whole(backend::Backend::Cpu, false); }
TEST(Stateful, HalvesMatchTheWholeSequenceComposed) { expect_stateful_halves_match_whole(backend::Backend::Ref, false); }
TEST(Stateful, HalvesMatchTheWholeSequenceWithMasks) { expect_stateful_halves_match_whole(backend::Backend::Cpu, true); }

// The carried states are detached: the gradient of the second call stops at its start.
TEST(Stateful, TheGradientStopsAtTheWindow) {
  Generator gen(5);
  nn::GRU gru({.units = 4, .stateful = true});
  Tensor a = randn({2, 3, 2}, gen), b = randn({2, 3, 2}, gen);
  a.set_requires_grad(true);
  gru.call({.inputs = {a}});
  sum(gru.call({.inputs = {b}}).tensors[0]).backward();
  EXPECT_FALSE(a.grad().defined());
  for (const auto& [name, p] : gru.named_parameters()) EXPECT_TRUE(p.grad().defined()) << name;
}

// A functional model's build probe leaves nothing carried; Model::reset_states reaches the layer.
TEST(Stateful, ModelBuildLeavesNoStateAndResetReachesTheLayers) {
  auto in = nn::Input({-1}, "ids");
  auto lstm = std::make_shared<nn::LSTM>(nn::LSTMOptions{.units = 3, .return_sequences = true, .stateful = true});
  auto h = nn::Embedding({.input_dim = 5, .output_dim = 2})(in);
  auto y = (*lstm)(h);
  train::Model model({in}, {nn::Dense({.units = 5, .activation = "softmax"})(y)});
  model.compile({.loss = "sparse_categorical_crossentropy"});
  model.network().build({});
  EXPECT_TRUE(lstm->carried_states().empty());
  model.predict(zeros({4, 6}), 4);
  ASSERT_EQ(lstm->carried_states().size(), 2u);
  EXPECT_EQ(lstm->carried_states()[0].shape(), (Shape{4, 3}));
  model.reset_states();
  EXPECT_TRUE(lstm->carried_states().empty());
}

// A small model learns "abcd" repeated; sampling continues it, and the model
// file keeps the vocabulary for `cortex lm sample`.
class TinyLanguageModel : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string text;
    for (int i = 0; i < 300; ++i) text += "abcd";
    vocabulary = CharVocabulary::of(text);
    data = stream_batches(vocabulary.encode(text, "the text"), 4, 10);
    auto in = nn::Input({-1}, "chars");
    auto h = nn::Embedding({.input_dim = vocabulary.size(), .output_dim = 8})(in);
    h = nn::LSTM({.units = 16, .return_sequences = true, .stateful = true})(h);
    model = std::make_unique<train::Model>(std::vector<nn::Symbolic>{in},
                                           std::vector<nn::Symbolic>{nn::Dense({.units = vocabulary.size(), .activation = "softmax"})(h)},
                                           3);
    model->compile({.loss = "sparse_categorical_crossentropy", .optimizer = std::make_shared<optim::Adam>(1e-2)});
    model->metadata()["vocabulary"] = vocabulary.to_json();
  }
  CharVocabulary vocabulary;
  StreamBatches data;
  std::unique_ptr<train::Model> model;
};

TEST_F(TinyLanguageModel, LearnsThePatternAndSamplesIt) {
  const double before = bits_per_char(*model, data, 4);
  EXPECT_GT(before, 1.7);  // four characters, near uniform before training: log2(4) = 2
  EXPECT_LT(before, 2.6);
  model->fit(data.x, data.y, {.batch_size = 4, .epochs = 8, .verbose = 0, .shuffle = false});
  const double after = bits_per_char(*model, data, 4);
  EXPECT_LT(after, 0.2) << "before " << before;
  Generator gen(1);
  EXPECT_EQ(sample_text(*model, vocabulary, "abcdab", 10, 0.5, gen), "cdabcdabcd");
  Generator g1(7), g2(7);
  EXPECT_EQ(sample_text(*model, vocabulary, "b", 30, 1.5, g1), sample_text(*model, vocabulary, "b", 30, 1.5, g2));

  const fs::path path = temp_file("lm.cortex");
  model->save(path.string());
  auto loaded = train::load_model(path.string());
  ASSERT_EQ(loaded->metadata().count("vocabulary"), 1u);
  const CharVocabulary back = CharVocabulary::from_json(loaded->metadata().at("vocabulary"));
  EXPECT_EQ(back.chars, "abcd");
  Generator g3(1);
  EXPECT_EQ(sample_text(*loaded, back, "abcdab", 10, 0.5, g3), "cdabcdabcd");
  EXPECT_NEAR(bits_per_char(*loaded, data, 4), after, 1e-5);
  fs::remove(path);
}

TEST_F(TinyLanguageModel, BadPrimesAndTemperaturesAreRefused) {
  Generator gen(1);
  EXPECT_ERROR_CONTAINS(sample_text(*model, vocabulary, "", 5, 0.7, gen), ValueError, "a prime of at least one character");
  EXPECT_ERROR_CONTAINS(sample_text(*model, vocabulary, "abx", 5, 0.7, gen), ValueError,
                        "the prime has 'x' (byte 120) at position 2");
  EXPECT_ERROR_CONTAINS(sample_text(*model, vocabulary, "ab", 5, 0.0, gen), ValueError, "temperature > 0, got 0");
  EXPECT_ERROR_CONTAINS(sample_text(*model, vocabulary, "ab", -1, 0.7, gen), ValueError, "length >= 0");
}

TEST(ModelMetadata, ABadUserMetadataEntryIsNamed) {
  train::Sequential model({nn::Input({3}), nn::Dense({.units = 2})});
  model.compile({.loss = "mse"});
  model.metadata()["classes"] = "[\"a\", \"b\"]";
  const fs::path path = temp_file("meta.cortex");
  model.save(path.string());
  EXPECT_EQ(train::load_model(path.string())->metadata().at("classes"), "[\"a\", \"b\"]");
  io::TensorFile f = io::load_tensors(path.string());
  f.metadata["user_metadata"] = "{\"classes\": 3}";
  io::save_tensors(path.string(), f.tensors, f.metadata);
  EXPECT_ERROR_CONTAINS(train::load_model(path.string()), ValueError, "expects strings, got number for 'classes'");
  f.metadata["user_metadata"] = "[1]";
  io::save_tensors(path.string(), f.tensors, f.metadata);
  EXPECT_ERROR_CONTAINS(train::load_model(path.string()), ValueError, "expects an object of strings, got array");
  fs::remove(path);
}

}  // namespace
}  // namespace cortex::seq
