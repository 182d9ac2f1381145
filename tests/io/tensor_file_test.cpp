// Tensor files: round trips of every dtype, the safetensors byte layout, every kind of
// corrupt file, and atomic saves that never damage the file they replace.
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <optional>

#include "cortex/io/atomic_file.h"
#include "cortex/io/tensor_file.h"
#include "support/check.h"
#include "support/fake_device.h"
#include "support/fifo.h"
#include "temp_dir.h"

namespace cortex {
namespace {

using io::load_tensors;
using io::save_tensors;
using Named = std::vector<std::pair<std::string, Tensor>>;

class TensorFileTest : public testing::TempDirTest {
 protected:
  // Loading `bytes` must fail with a cortex::Error naming the file and containing `expected`.
  void expect_corrupt(const std::string& bytes, const std::string& expected) {
    const std::string p = path("bad.cortex");
    write_file(p, bytes);
    try {
      load_tensors(p);
      ADD_FAILURE() << "loaded a corrupt file; expected an error containing: " << expected;
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(expected), std::string::npos) << message;
      EXPECT_NE(message.find(p), std::string::npos) << message;
    }
  }
};

template <typename T>
Tensor filled(const Shape& shape, const std::vector<T>& values) {
  Tensor t = Tensor::empty(shape, dtype_of<T>());
  std::copy(values.begin(), values.end(), t.data<T>());
  return t;
}

std::string bytes_of(const Tensor& t) {
  Tensor c = t.contiguous();
  return std::string(static_cast<const char*>(c.raw_data()), c.numel() * element_size(c.dtype()));
}

// A file in the layout: the length prefix (the padded header's, unless given), the
// header text padded with spaces to a multiple of 8, then `data`.
std::string layout(std::string header, const std::string& data, std::optional<std::uint64_t> length = {}) {
  header.append((8 - header.size() % 8) % 8, ' ');
  const std::uint64_t n = length.value_or(header.size());
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(n >> (8 * i));
  return out + header + data;
}

TEST_F(TensorFileTest, RoundTripsEveryDTypeAndMetadata) {
  Tensor transposed = arange(12).reshape({3, 4}).transpose(0, 1);  // (4, 3), strides (1, 4)
  ASSERT_FALSE(transposed.is_contiguous());
  const Named saved = {
      {"f32", filled<float>({2, 3}, {1.5f, -2, 3.25f, 0, 1e-30f, -7})},
      {"f64", filled<double>({3}, {1.0 / 3, -2e300, 5})},
      {"bf16", filled<bf16>({2, 2}, {bf16(1.5f), bf16(-2.25f), bf16(3e38f), bf16(0.0f)})},
      {"empty", Tensor::empty({0, 3}, DType::f32)},
      {"i32", filled<std::int32_t>({2}, {-2147483647 - 1, 7})},
      {"i64", filled<std::int64_t>({2}, {std::int64_t{1} << 40, -3})},
      {"u8", filled<std::uint8_t>({4}, {0, 1, 128, 255})},
      {"bool", filled<bool>({3}, {true, false, true})},
      {"scalar", filled<float>({}, {42})},
      {"layer.0/transposed", transposed},
  };
  const std::map<std::string, std::string> metadata = {
      {"config", R"({"layers": [1, 2]})"}, {"epoch", "3"}, {"unicode", "h\xc3\xa9llo"}};
  save_tensors(path("m.cortex"), saved, metadata);

  io::TensorFile loaded = load_tensors(path("m.cortex"));
  EXPECT_EQ(loaded.metadata, metadata);
  ASSERT_EQ(loaded.tensors.size(), saved.size());
  for (std::size_t i = 0; i < saved.size(); ++i) {
    const auto& [name, t] = loaded.tensors[i];
    SCOPED_TRACE(saved[i].first);
    EXPECT_EQ(name, saved[i].first);
    EXPECT_EQ(t.dtype(), saved[i].second.dtype());
    EXPECT_EQ(t.shape(), saved[i].second.shape());
    EXPECT_TRUE(t.is_contiguous());
    EXPECT_EQ(bytes_of(t), bytes_of(saved[i].second));
  }
  EXPECT_EQ(loaded.tensors[9].second.to_vector<float>(),
            (std::vector<float>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}));
  EXPECT_EQ(float(loaded.tensors[2].second.data<bf16>()[1]), -2.25f);
  EXPECT_EQ(entries(), 1u);  // no temporary file left behind
}

TEST_F(TensorFileTest, WritesTheSafetensorsLayout) {
  save_tensors(path("m.cortex"),
               {{"w", filled<float>({2, 2}, {1, 2, 3, 4})}, {"b", filled<std::int64_t>({3}, {5, 6, 7})}},
               {{"format", "pt"}});
  const std::string bytes = read_file(path("m.cortex"));
  ASSERT_GE(bytes.size(), 8u);
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = n << 8 | static_cast<unsigned char>(bytes[i]);
  EXPECT_EQ(n % 8, 0u) << "the data must start 8-byte aligned";
  ASSERT_EQ(bytes.size(), 8 + n + 16 + 24);
  const std::string header = bytes.substr(8, n);
  EXPECT_EQ(header.front(), '{');
  EXPECT_EQ(header[header.find_last_not_of(' ')], '}') << "only spaces may pad the header";
  EXPECT_LT(header.find("\"w\""), header.find("\"b\"")) << "tensors stay in the given order";
  const auto json = nlohmann::json::parse(header);
  EXPECT_EQ(json.size(), 3u);
  EXPECT_EQ(json["w"], nlohmann::json::parse(R"({"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]})"));
  EXPECT_EQ(json["b"], nlohmann::json::parse(R"({"dtype": "I64", "shape": [3], "data_offsets": [16, 40]})"));
  EXPECT_EQ(json["__metadata__"], nlohmann::json::parse(R"({"format": "pt"})"));
  // Little-endian IEEE floats, then little-endian int64s.
  const std::string floats("\x00\x00\x80\x3f\x00\x00\x00\x40\x00\x00\x40\x40\x00\x00\x80\x40", 16);
  EXPECT_EQ(bytes.substr(8 + n, 16), floats);
  EXPECT_EQ(bytes.substr(8 + n + 16, 8), std::string("\x05\0\0\0\0\0\0\0", 8));
}

TEST_F(TensorFileTest, NamesEveryDTypeLikeSafetensors) {
  const std::vector<std::pair<DType, std::string>> names = {
      {DType::f32, "F32"}, {DType::f64, "F64"}, {DType::bf16, "BF16"}, {DType::i32, "I32"},
      {DType::i64, "I64"}, {DType::u8, "U8"},   {DType::boolean, "BOOL"}};
  Named tensors;
  for (const auto& [dtype, name] : names) tensors.emplace_back(name, zeros({2}, dtype));
  save_tensors(path("m.cortex"), tensors);
  const std::string bytes = read_file(path("m.cortex"));
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = n << 8 | static_cast<unsigned char>(bytes[i]);
  const auto json = nlohmann::json::parse(bytes.substr(8, n));
  EXPECT_FALSE(json.contains("__metadata__")) << "no metadata given, none written";
  for (const auto& [dtype, name] : names) EXPECT_EQ(json[name]["dtype"], name);
}

TEST_F(TensorFileTest, RejectsEveryKindOfCorruptFile) {
  const std::string f32x1 = R"({"dtype": "F32", "shape": [1], )";
  struct Case {
    const char* what;
    std::string bytes;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"too short", std::string("\x10\x00\x00", 3), "expected at least 8 bytes (the header length), found 3"},
      {"length past the end", layout("{}", "", 1000), "header length 1000 is larger than the file, which has 8"},
      {"absurd length", layout("{}", "", std::uint64_t{1} << 62), "is absurd, expected at most 100000000"},
      {"not JSON", layout(R"({"a": )", ""), "the header is not valid JSON"},
      {"not an object", layout("[1, 2]", ""), "the header must be a JSON object, found array"},
      {"entry not an object", layout(R"({"a": 3})", ""), "tensor 'a' must be an object, found number"},
      {"missing field", layout(R"({"a": {"dtype": "F32", "shape": [1]}})", ""), "has no \"data_offsets\" field"},
      {"unknown dtype", layout(R"({"a": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]}})", "abcd"),
       "tensor 'a' has dtype \"F16\", expected one of F32, F64, BF16, I32, I64, U8, BOOL"},
      {"negative size", layout(R"({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})", "abcd"),
       "shape entry must be a non-negative integer, found -1"},
      {"size/offset mismatch", layout(R"({"a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 12]}})",
                                      std::string(12, 'x')),
       "tensor 'a' of shape [2, 2] and dtype F32 needs 16 bytes, but its data_offsets [0, 12] span 12"},
      {"overflowing shape",
       layout(R"({"a": {"dtype": "F32", "shape": [4294967296, 4294967296, 16], "data_offsets": [0, 4]}})", "abcd"),
       "needs more than 2^64 bytes"},
      {"offsets out of range", layout("{\"a\": " + f32x1 + R"("data_offsets": [0, 16]}})", std::string(8, 'x')),
       "data_offsets [0, 16] out of range: the data section holds 8 bytes"},
      {"begin after end", layout("{\"a\": " + f32x1 + R"("data_offsets": [8, 4]}})", std::string(8, 'x')),
       "with begin > end"},
      {"overlap", layout("{\"a\": " + f32x1 + R"("data_offsets": [0, 4]}, "b": )" + f32x1 +
                             R"("data_offsets": [2, 6]}})", std::string(6, 'x')),
       "tensor 'b' [2, 6) overlaps tensor 'a' [0, 4)"},
      {"gap", layout("{\"a\": " + f32x1 + R"("data_offsets": [0, 4]}, "b": )" + f32x1 +
                         R"("data_offsets": [8, 12]}})", std::string(12, 'x')),
       "bytes [4, 8) of the data section belong to no tensor"},
      {"trailing garbage", layout("{\"a\": " + f32x1 + R"("data_offsets": [0, 4]}})", std::string(9, 'x')),
       "trailing garbage: expected the data to end at byte 4 of the data section, found 5 more bytes"},
      {"bad metadata", layout(R"({"__metadata__": {"epoch": 3}})", ""),
       "__metadata__ must map strings to strings, found \"epoch\": 3"},
      {"bool byte", layout(R"({"m": {"dtype": "BOOL", "shape": [2], "data_offsets": [0, 2]}})", "\x01\x02"),
       "BOOL tensor 'm' holds byte 2 at element 1, expected 0 or 1"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    expect_corrupt(c.bytes, c.expected);
  }
}

TEST_F(TensorFileTest, RejectsATruncatedOrMissingFile) {
  save_tensors(path("m.cortex"), {{"w", zeros({4, 4})}});
  const std::string bytes = read_file(path("m.cortex"));
  expect_corrupt(bytes.substr(0, bytes.size() - 3), "out of range: the data section holds 61 bytes");
  EXPECT_THROW(
      {
        try {
          load_tensors(path("missing.cortex"));
        } catch (const Error& e) {
          EXPECT_NE(std::string(e.what()).find("cannot open tensor file " + path("missing.cortex")),
                    std::string::npos);
          throw;
        }
      },
      Error);
}

TEST_F(TensorFileTest, AFifoOrADirectoryIsRefusedWithoutBlocking) {
  const std::string fifo = testing::error_reading_fifo(path("pipe.cortex"), [](const std::string& p) { load_tensors(p); });
  EXPECT_NE(fifo.find("cannot open tensor file " + path("pipe.cortex") + ": a FIFO, not a regular file"),
            std::string::npos)
      << fifo;
  try {
    load_tensors(dir_.string());
    ADD_FAILURE() << "loaded a directory";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("a directory, not a regular file"), std::string::npos) << e.what();
  }
}

TEST_F(TensorFileTest, HeaderValuesAreQuotedBriefly) {
  // dump() recurses once per level: a million-deep value must be named, not dumped.
  const std::string deep = std::string(1'000'000, '[') + std::string(1'000'000, ']');
  expect_corrupt(layout(R"({"a": {"dtype": "F32", "shape": [], "data_offsets": )" + deep + "}}", ""),
                 "has data_offsets an array nested deeper than 4 levels, expected [begin, end]");
  // A long value is cut to 80 characters.
  std::string many = "[0";
  for (int i = 1; i < 1000; ++i) {
    many += ',';
    many += std::to_string(i);  // (not "," + ...: GCC 12 warns falsely of -Wrestrict there)
  }
  many += "]";
  const std::string cut = many.substr(0, 77) + "...";
  expect_corrupt(layout(R"({"a": {"dtype": "F32", "shape": [], "data_offsets": )" + many + "}}", ""),
                 "has data_offsets " + cut + ", expected [begin, end]");
}

TEST_F(TensorFileTest, AZeroSizeDoesNotHideAbsurdSizesBesideIt) {
  // No data, but strides of 2^64: refused as corrupt, not built with overflowing strides.
  expect_corrupt(layout(R"({"a": {"dtype": "F32", "shape": [0, 4294967296, 4294967296], "data_offsets": [0, 0]}})",
                        ""),
                 "tensor 'a': Tensor::empty: shape [0, 4294967296, 4294967296] of f32 is too large to allocate");
  const std::string p = path("empty.cortex");
  save_tensors(p, {{"e", zeros({0, 1 << 20, 4})}});  // large but sane beside the zero
  EXPECT_EQ(load_tensors(p).tensors.at(0).second.shape(), (Shape{0, 1 << 20, 4}));
}

TEST_F(TensorFileTest, SaveIntoAMissingDirectoryFailsCleanly) {
  const std::string p = path("no/such/dir/m.cortex");
  try {
    save_tensors(p, {{"w", zeros({2})}});
    ADD_FAILURE() << "saved into a missing directory";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot write " + p), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("No such file or directory"), std::string::npos) << e.what();
  }
  EXPECT_EQ(entries(), 0u);
}

TEST_F(TensorFileTest, FailedSaveLeavesTheOldFileIntact) {
  const std::string p = path("m.cortex");
  save_tensors(p, {{"w", ones({3})}}, {{"epoch", "1"}});
  const std::string old = read_file(p);

  {
    testing::FakeCudaMemory fake;  // a tensor on a device that save cannot read
    Tensor on_device = Tensor::empty({3}, DType::f32, Device::cuda());
    EXPECT_THROW(save_tensors(p, {{"w", zeros({3})}, {"v", on_device}}, {{"epoch", "2"}}), DeviceError);
  }
  EXPECT_EQ(read_file(p), old);

  // A writer that fails half-way: the temporary file goes, the old file stays.
  EXPECT_THROW(io::write_atomically(p,
                                    [](std::FILE* file) {
                                      std::fputs("half a checkpoint", file);
                                      throw Error("disk on fire");
                                    }),
               Error);
  EXPECT_EQ(read_file(p), old);
  EXPECT_EQ(entries(), 1u);
  EXPECT_EQ(load_tensors(p).metadata.at("epoch"), "1");
}

TEST_F(TensorFileTest, FailedRenameRemovesTheTemporaryFile) {
  // A non-empty directory where the file should go: the write succeeds, the rename fails.
  std::filesystem::create_directory(path("m.cortex"));
  write_file(path("m.cortex/keep"), "keep me");
  try {
    save_tensors(path("m.cortex"), {{"w", zeros({2})}});
    ADD_FAILURE() << "renamed a file over a non-empty directory";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("renaming " + path("m.cortex") + ".tmp."), std::string::npos) << e.what();
  }
  EXPECT_EQ(entries(), 1u);
  EXPECT_EQ(read_file(path("m.cortex/keep")), "keep me");
}

// Renaming over /dev/null would replace the device with a file (as root): a
// character device is written in place; a FIFO is refused without blocking.
TEST_F(TensorFileTest, ADeviceIsWrittenInPlaceAndAFifoIsRefused) {
  struct stat before {}, after {};
  ASSERT_EQ(::stat("/dev/null", &before), 0);
  ASSERT_TRUE(S_ISCHR(before.st_mode));
  save_tensors("/dev/null", {{"w", zeros({2})}});
  io::write_text("/dev/null", "text");
  ASSERT_EQ(::stat("/dev/null", &after), 0);
  EXPECT_TRUE(S_ISCHR(after.st_mode));
  EXPECT_EQ(after.st_rdev, before.st_rdev);
  ASSERT_EQ(::mkfifo(path("out.fifo").c_str(), 0600), 0);
  try {
    io::write_text(path("out.fifo"), "x");
    ADD_FAILURE() << "wrote into a FIFO";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("it is a FIFO, expected a file"), std::string::npos) << e.what();
  }
}

TEST_F(TensorFileTest, SaveReplacesAnExistingFile) {
  save_tensors(path("m.cortex"), {{"w", zeros({2})}});
  save_tensors(path("m.cortex"), {{"w", full({3}, 2.5)}}, {{"epoch", "7"}});
  io::TensorFile loaded = load_tensors(path("m.cortex"));
  ASSERT_EQ(loaded.tensors.size(), 1u);
  EXPECT_EQ(loaded.tensors[0].second.to_vector<float>(), (std::vector<float>{2.5f, 2.5f, 2.5f}));
  EXPECT_EQ(loaded.metadata.at("epoch"), "7");
  EXPECT_EQ(entries(), 1u);
}

TEST_F(TensorFileTest, RejectsBadTensorLists) {
  EXPECT_THROW(save_tensors(path("m.cortex"), {{"w", zeros({1})}, {"w", zeros({1})}}), ValueError);
  EXPECT_THROW(save_tensors(path("m.cortex"), {{"__metadata__", zeros({1})}}), ValueError);
  EXPECT_THROW(save_tensors(path("m.cortex"), {{"w", Tensor()}}), ValueError);
  EXPECT_EQ(entries(), 0u);
}

}  // namespace
}  // namespace cortex
