// read_idx: round trips of every IDX element type, raw and gzip, and a clear error for each kind of bad file.
#include <cmath>
#include <limits>

#include "cortex/data/idx.h"
#include "data/idx_files.h"
#include "support/check.h"
#include "support/fifo.h"

namespace cortex {
namespace {

using data::read_idx;
using testing::big_endian;
using testing::Bytes;
using testing::error_reading_fifo;
using testing::expect_error;
using testing::idx_bytes;

class ReadIdx : public testing::ScratchDir {};

TEST_F(ReadIdx, U8RawAndGzipGiveTheSameTensor) {
  Bytes payload;
  for (int i = 0; i < 12; ++i) payload.push_back(static_cast<unsigned char>(i * 20));
  Bytes file = idx_bytes(0x08, {2, 3, 2}, payload);
  for (const std::string& p :
       {write_raw("a.idx", file), write_gz("a.idx.gz", file), write_gz("gz_without_suffix", file)}) {
    Tensor t = read_idx(p);
    ASSERT_EQ(t.dtype(), DType::u8) << p;
    ASSERT_EQ(t.shape(), (Shape{2, 3, 2})) << p;
    EXPECT_EQ(t.to_vector<std::uint8_t>(), std::vector<std::uint8_t>(payload.begin(), payload.end())) << p;
  }
}

TEST_F(ReadIdx, SignedIntegersWidenToI32) {
  std::vector<std::int8_t> i8 = {-128, -1, 0, 127};
  std::vector<std::int16_t> i16 = {-32768, -2, 1234, 32767};
  std::vector<std::int32_t> i32 = {std::numeric_limits<std::int32_t>::min(), -3, 0, 2147483647};
  Tensor a = read_idx(write_gz("i8.gz", idx_bytes(0x09, {4}, big_endian(i8))));
  Tensor b = read_idx(write_raw("i16", idx_bytes(0x0B, {2, 2}, big_endian(i16))));
  Tensor c = read_idx(write_gz("i32.gz", idx_bytes(0x0C, {4, 1}, big_endian(i32))));
  ASSERT_EQ(a.dtype(), DType::i32);
  ASSERT_EQ(b.dtype(), DType::i32);
  ASSERT_EQ(c.dtype(), DType::i32);
  EXPECT_EQ(b.shape(), (Shape{2, 2}));
  EXPECT_EQ(c.shape(), (Shape{4, 1}));
  EXPECT_EQ(a.to_vector<std::int32_t>(), (std::vector<std::int32_t>{-128, -1, 0, 127}));
  EXPECT_EQ(b.to_vector<std::int32_t>(), (std::vector<std::int32_t>{-32768, -2, 1234, 32767}));
  EXPECT_EQ(c.to_vector<std::int32_t>(), i32);
}

TEST_F(ReadIdx, FloatsKeepTheirBits) {
  std::vector<float> f32 = {1.5f, -2.25f, 3.0e-39f, std::numeric_limits<float>::infinity(), 0.1f, -0.0f};
  std::vector<double> f64 = {M_PI, -1e300, 5e-324};
  Tensor a = read_idx(write_gz("f32.gz", idx_bytes(0x0D, {3, 2}, big_endian(f32))));
  Tensor b = read_idx(write_raw("f64", idx_bytes(0x0E, {3}, big_endian(f64))));
  ASSERT_EQ(a.dtype(), DType::f32);
  ASSERT_EQ(b.dtype(), DType::f64);
  std::vector<float> got = a.to_vector<float>();
  for (std::size_t i = 0; i < f32.size(); ++i)
    EXPECT_EQ(std::memcmp(&got[i], &f32[i], 4), 0) << "element " << i << ": " << got[i] << " vs " << f32[i];
  EXPECT_EQ(b.to_vector<double>(), f64);
}

TEST_F(ReadIdx, EmptyDimIsAnEmptyTensor) {
  Tensor t = read_idx(write_gz("empty.gz", idx_bytes(0x08, {0, 28, 28}, {})));
  EXPECT_EQ(t.shape(), (Shape{0, 28, 28}));
}

TEST_F(ReadIdx, MissingFileOrDirectory) {
  std::string p = path("nope-idx3-ubyte.gz");
  expect_error<Error>([&] { read_idx(p); }, {"the IDX file", p, "no such file"});
  expect_error<Error>([&] { read_idx(dir_.string()); }, {"the IDX file", dir_.string(), "directory"});
  const std::string fifo = error_reading_fifo(path("pipe"), [](const std::string& p) { read_idx(p); });
  EXPECT_NE(fifo.find("cannot open the IDX file '" + path("pipe") + "': a FIFO, not a regular file"), std::string::npos)
      << fifo;
}

TEST_F(ReadIdx, AZeroDimDoesNotHideAbsurdDims) {
  std::string p = write_raw("zero_absurd", idx_bytes(0x08, {0, 0xffffffffu, 0xffffffffu}, {}));
  expect_error<Error>([&] { read_idx(p); }, {p, "absurd dims [0, 4294967295, 4294967295]"});
  Tensor sane = read_idx(write_raw("zero_sane", idx_bytes(0x08, {0, 60000, 784}, {})));
  EXPECT_EQ(sane.shape(), (Shape{0, 60000, 784}));
}

TEST_F(ReadIdx, TruncatedGzipIsAZlibError) {
  Bytes payload;
  for (int i = 0; i < 5000; ++i) payload.push_back(static_cast<unsigned char>((i * 7919) % 251));
  Bytes whole = read_file(write_gz("whole.gz", idx_bytes(0x08, {5000}, payload)));
  ASSERT_GT(whole.size(), 100u);
  // Cut in the deflate data, and cut only the 8-byte CRC/length trailer.
  for (std::size_t keep : {whole.size() / 2, whole.size() - 4}) {
    std::string p = write_raw("cut.gz", Bytes(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(keep)));
    expect_error<Error>([&] { read_idx(p); }, {"the IDX file", p, "truncated gzip", "zlib"});
  }
}

TEST_F(ReadIdx, CorruptGzipIsAZlibError) {
  Bytes payload(4000, 7);
  Bytes bytes = read_file(write_gz("whole.gz", idx_bytes(0x08, {4000}, payload)));
  bytes[bytes.size() - 6] ^= 0xff;  // the CRC-32 trailer no longer matches
  std::string p = write_raw("crc.gz", bytes);
  expect_error<Error>([&] { read_idx(p); }, {"the IDX file", p, "corrupt gzip", "zlib"});
}

TEST_F(ReadIdx, BadMagic) {
  std::string p = write_raw("bad", {0x12, 0x34, 0x08, 0x01, 0, 0, 0, 1, 5});
  expect_error<Error>([&] { read_idx(p); }, {p, "not an IDX file", "00 00 <type> <ndims>", "12 34 08 01"});
  std::string t = write_gz("type.gz", {0, 0, 0x07, 0x01, 0, 0, 0, 1, 5});
  expect_error<Error>([&] { read_idx(t); }, {t, "not an IDX file", "00 00 07 01"});
  std::string z = write_raw("zero_dims", {0, 0, 0x08, 0});
  expect_error<Error>([&] { read_idx(z); }, {z, "1 to 8 dims", "00 00 08 00"});
  std::string e = write_raw("empty", {});
  expect_error<Error>([&] { read_idx(e); }, {e, "4-byte header", "found 0 bytes"});
  std::string d = write_raw("short_dims", {0, 0, 0x08, 3, 0, 0, 0, 2});
  expect_error<Error>([&] { read_idx(d); }, {d, "truncated", "3 dims (12 bytes)", "found 4 bytes"});
}

TEST_F(ReadIdx, LengthMustMatchTheDims) {
  std::string short_raw = write_raw("short", idx_bytes(0x08, {2, 5}, Bytes(9, 1)));
  expect_error<Error>([&] { read_idx(short_raw); }, {short_raw, "truncated", "[2, 5]", "need 10 bytes", "found 9"});
  std::string short_gz = write_gz("short.gz", idx_bytes(0x0C, {3}, Bytes(11, 1)));
  expect_error<Error>([&] { read_idx(short_gz); },
                      {short_gz, "truncated", "[3] of i32", "need 12 bytes of decompressed", "found 11"});
  std::string long_gz = write_gz("long.gz", idx_bytes(0x08, {2, 5}, Bytes(13, 1)));
  expect_error<Error>([&] { read_idx(long_gz); }, {long_gz, "does not match its dims", "found 13", "3 trailing bytes"});
}

TEST_F(ReadIdx, AbsurdDimsFailBeforeAllocating) {
  std::string p = write_gz("huge.gz", idx_bytes(0x0E, {0xffffffffu, 0xffffffffu, 0xffffffffu}, Bytes(64, 0)));
  expect_error<Error>([&] { read_idx(p); }, {p, "absurd dims", "[4294967295, 4294967295, 4294967295]", "f64"});
  // Large but representable dims with little data: truncated, found only what is there.
  std::string q = write_raw("big", idx_bytes(0x08, {60000, 1000, 1000}, Bytes(100, 0)));
  expect_error<Error>([&] { read_idx(q); }, {q, "truncated", "need 60000000000 bytes", "found 100"});
}

}  // namespace
}  // namespace cortex
