// Reader for IDX files: a 4-byte magic (0, 0, type, ndims), ndims big-endian
// u32 dims, then the elements big-endian. zlib's gz* API reads .gz and raw alike.
#include "cortex/data/idx.h"

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "cortex/io/open_file.h"

namespace cortex::data {
namespace {

struct IdxType {
  unsigned char code;
  std::size_t size;  // bytes per element in the file
  const char* name;
  DType dtype;
};

constexpr IdxType kTypes[] = {{0x08, 1, "u8", DType::u8},   {0x09, 1, "i8", DType::i32},
                              {0x0B, 2, "i16", DType::i32}, {0x0C, 4, "i32", DType::i32},
                              {0x0D, 4, "f32", DType::f32}, {0x0E, 8, "f64", DType::f64}};
constexpr const char* kMagicHelp =
    "magic bytes 00 00 <type> <ndims> with type 08 (u8), 09 (i8), 0B (i16), 0C (i32), 0D (f32) or 0E (f64) "
    "and 1 to 8 dims";
constexpr int kMaxDims = 8;
// No IDX dataset comes near this; dims above it are corrupt, not big.
constexpr std::uint64_t kMaxBytes = std::uint64_t{1} << 40;

std::string hex(const unsigned char* bytes, std::size_t n) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    if (i) out += ' ';
    out += digits[bytes[i] >> 4];
    out += digits[bytes[i] & 15];
  }
  return out;
}

std::uint64_t big_endian(const unsigned char* p, std::size_t size) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < size; ++i) v = (v << 8) | p[i];
  return v;
}

// An open gzFile whose every zlib error becomes a cortex::Error naming the file.
class GzFile {
 public:
  explicit GzFile(const std::string& path) : path_(path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
      fail("cannot open the IDX file '", path, "': no such file (expected an IDX file, .gz or raw)");
    std::string why;
    const int fd = io::open_regular_file(path, &why);  // a FIFO is refused, not waited on
    if (fd < 0) fail("cannot open the IDX file '", path, "': ", why, " (expected an IDX file, .gz or raw)");
    file_ = gzdopen(fd, "rb");
    if (file_ == nullptr) {
      ::close(fd);
      fail("cannot open the IDX file '", path, "': zlib is out of memory");
    }
    gzbuffer(file_, 1 << 17);
  }
  ~GzFile() {
    if (file_ != nullptr) gzclose_r(file_);
  }
  GzFile(const GzFile&) = delete;
  GzFile& operator=(const GzFile&) = delete;

  // Reads up to n bytes; fewer only at the end of the data.
  std::size_t read(void* out, std::size_t n) {
    std::size_t total = 0;
    while (total < n) {
      unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(n - total, std::size_t{1} << 30));
      int got = gzread(file_, static_cast<char*>(out) + total, chunk);
      if (got <= 0) {
        check();
        break;
      }
      total += static_cast<std::size_t>(got);
    }
    return total;
  }

  // Bytes left after the data (draining them); zlib errors at the end surface here too.
  std::uint64_t drain() {
    std::uint64_t extra = 0;
    unsigned char buf[4096];
    for (std::size_t got; (got = read(buf, sizeof buf)) > 0;) extra += got;
    int rc = gzclose_r(file_);
    file_ = nullptr;
    if (rc != Z_OK) zlib_error(rc, rc == Z_BUF_ERROR ? "the gzip stream ends early" : "closing the stream failed");
    return extra;
  }

  bool compressed() const { return file_ != nullptr && gzdirect(file_) == 0; }

 private:
  void check() {
    int errnum = Z_OK;
    const char* msg = gzerror(file_, &errnum);
    if (errnum != Z_OK) zlib_error(errnum, msg);
  }
  [[noreturn]] void zlib_error(int errnum, const char* msg) {
    const char* what = errnum == Z_BUF_ERROR   ? "truncated"
                       : errnum == Z_DATA_ERROR ? "corrupt"
                       : errnum == Z_ERRNO      ? std::strerror(errno)
                                                : "unreadable";
    std::string said = msg;
    if (said.rfind(path_ + ": ", 0) == 0) said.erase(0, path_.size() + 2);  // gzerror prefixes the path
    fail("the IDX file '", path_, "' is a ", what, " gzip file: expected a complete gzip stream, zlib says: ", said,
         " (error ", errnum, ")");
  }

  std::string path_;
  gzFile file_ = nullptr;
};

template <typename T>
void decode(const std::vector<unsigned char>& bytes, std::size_t size, T* out, T (*convert)(std::uint64_t)) {
  std::size_t n = bytes.size() / size;
  for (std::size_t i = 0; i < n; ++i) out[i] = convert(big_endian(bytes.data() + i * size, size));
}

Tensor to_tensor(const std::vector<unsigned char>& bytes, const IdxType& type, const Shape& shape) {
  Tensor t = Tensor::empty(shape, type.dtype);
  switch (type.code) {
    case 0x08:
      if (!bytes.empty()) std::memcpy(t.data<std::uint8_t>(), bytes.data(), bytes.size());
      break;
    case 0x09:
      decode<std::int32_t>(bytes, 1, t.data<std::int32_t>(),
                           [](std::uint64_t v) { return std::int32_t{static_cast<std::int8_t>(v)}; });
      break;
    case 0x0B:
      decode<std::int32_t>(bytes, 2, t.data<std::int32_t>(),
                           [](std::uint64_t v) { return std::int32_t{static_cast<std::int16_t>(v)}; });
      break;
    case 0x0C:
      decode<std::int32_t>(bytes, 4, t.data<std::int32_t>(),
                           [](std::uint64_t v) { return static_cast<std::int32_t>(static_cast<std::uint32_t>(v)); });
      break;
    case 0x0D:
      decode<float>(bytes, 4, t.data<float>(),
                    [](std::uint64_t v) { return std::bit_cast<float>(static_cast<std::uint32_t>(v)); });
      break;
    default:
      decode<double>(bytes, 8, t.data<double>(), [](std::uint64_t v) { return std::bit_cast<double>(v); });
  }
  return t;
}

}  // namespace

Tensor read_idx(const std::string& path) {
  GzFile file(path);
  unsigned char magic[4] = {0, 0, 0, 0};
  std::size_t got = file.read(magic, 4);
  if (got < 4)
    fail("'", path, "' is too short for an IDX file: expected a 4-byte header (", kMagicHelp,
         "), found ", got, " bytes");
  const IdxType* type = std::find_if(std::begin(kTypes), std::end(kTypes),
                                     [&](const IdxType& t) { return t.code == magic[2]; });
  int ndims = magic[3];
  if (magic[0] != 0 || magic[1] != 0 || type == std::end(kTypes) || ndims < 1 || ndims > kMaxDims)
    fail("'", path, "' is not an IDX file: expected ", kMagicHelp, ", found ", hex(magic, 4));

  unsigned char dim_bytes[4 * kMaxDims];
  got = file.read(dim_bytes, 4 * static_cast<std::size_t>(ndims));
  if (got < 4 * static_cast<std::size_t>(ndims))
    fail("the IDX file '", path, "' is truncated: expected ", ndims, " dims (", 4 * ndims,
         " bytes) after the magic, found ", got, " bytes");
  Shape shape;
  // Every dim counts towards "absurd", a zero one as 1: [0, 2^32-1, 2^32-1] holds no data
  // but is no more an image set than the same dims without the zero.
  std::uint64_t expected = type->size, bound = type->size;
  bool absurd = false;
  for (int d = 0; d < ndims; ++d) {
    std::uint64_t n = big_endian(dim_bytes + 4 * d, 4);
    shape.push_back(static_cast<std::int64_t>(n));
    const std::uint64_t at_least_1 = std::max<std::uint64_t>(n, 1);
    if (bound > kMaxBytes / at_least_1) absurd = true;
    bound = absurd ? bound : bound * at_least_1;
    expected *= absurd ? 1 : n;
  }
  if (absurd)
    fail("the IDX file '", path, "' has absurd dims ", shape_str(shape), " of ", type->name,
         ": expected at most 2^40 bytes of data (the header is corrupt)");

  // Read in chunks, so a corrupt header cannot make us allocate what the file does not hold.
  std::vector<unsigned char> bytes;
  bytes.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(expected, 1 << 26)));
  while (bytes.size() < expected) {
    std::size_t old = bytes.size();
    std::size_t chunk = static_cast<std::size_t>(std::min<std::uint64_t>(expected - old, 1 << 24));
    bytes.resize(old + chunk);
    std::size_t n = file.read(bytes.data() + old, chunk);
    if (n < chunk) {
      bytes.resize(old + n);
      break;
    }
  }
  bool compressed = file.compressed();
  std::uint64_t extra = file.drain();
  const char* kind = compressed ? "decompressed " : "";
  if (bytes.size() < expected)
    fail("the IDX file '", path, "' is truncated: dims ", shape_str(shape), " of ", type->name, " need ", expected,
         " bytes of ", kind, "data after the header, found ", bytes.size());
  if (extra > 0)
    fail("the IDX file '", path, "' does not match its dims: ", shape_str(shape), " of ", type->name, " need ", expected,
         " bytes of ", kind, "data after the header, found ", expected + extra, " (", extra, " trailing bytes)");
  return to_tensor(bytes, *type, shape);
}

}  // namespace cortex::data
