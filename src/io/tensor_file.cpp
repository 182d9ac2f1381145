// save_tensors / load_tensors: the safetensors layout, written atomically and read with
// every length checked before anything is allocated from it.
#include "cortex/io/tensor_file.h"

#include <sys/stat.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <set>
#include <nlohmann/json.hpp>

#include "cortex/io/atomic_file.h"
#include "cortex/io/json_depth.h"
#include "cortex/io/open_file.h"
#include "host_bytes.h"

static_assert(std::endian::native == std::endian::little,
              "tensor files hold little-endian data, copied as-is from memory");

namespace cortex::io {
namespace {

using Json = nlohmann::ordered_json;  // keeps the header in the tensors' order

constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;
constexpr const char* kMetadataKey = "__metadata__";

constexpr std::pair<DType, const char*> kDTypeNames[] = {
    {DType::f32, "F32"}, {DType::f64, "F64"}, {DType::bf16, "BF16"}, {DType::i32, "I32"},
    {DType::i64, "I64"}, {DType::u8, "U8"},   {DType::boolean, "BOOL"}};

const char* file_dtype_name(DType dtype) {
  for (const auto& [d, name] : kDTypeNames)
    if (d == dtype) return name;
  fail<DTypeError>("tensor files cannot store dtype ", dtype_name(dtype));
}

std::optional<DType> parse_dtype(const std::string& name) {
  for (const auto& [d, n] : kDTypeNames)
    if (name == n) return d;
  return std::nullopt;
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

// One tensor as the header describes it; offsets are relative to the data section.
struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  std::uint64_t begin, end;
};

class Loader {
 public:
  explicit Loader(std::string path) : path_(std::move(path)) {}

  template <typename... Args>
  [[noreturn]] void corrupt(Args&&... args) const {
    fail("corrupt tensor file ", path_, ": ", std::forward<Args>(args)...);
  }

  // A header value as an error message shows it: its JSON cut to 80 characters, or
  // only its type when nested deeper than 4 levels (dump() recurses once per level,
  // so a value nested a million deep would overflow the stack).
  static std::string brief(const Json& value) {
    if (!nested_within(value, 4)) return std::string("an ") + value.type_name() + " nested deeper than 4 levels";
    std::string text = value.dump();
    return text.size() <= 80 ? text : text.substr(0, 77) + "...";
  }

  std::uint64_t unsigned_field(const Json& value, const std::string& what) const {
    if (!value.is_number_unsigned()) corrupt(what, " must be a non-negative integer, found ", brief(value));
    return value.get<std::uint64_t>();
  }

  Entry parse_entry(const std::string& name, const Json& info, std::uint64_t data_bytes) const {
    const std::string where = "tensor '" + name + "'";
    if (!info.is_object()) corrupt(where, " must be an object, found ", info.type_name());
    for (const char* key : {"dtype", "shape", "data_offsets"})
      if (!info.contains(key)) corrupt(where, " has no \"", key, "\" field");
    const Json& dtype = info["dtype"];
    if (!dtype.is_string()) corrupt(where, " has a non-string dtype ", brief(dtype));
    std::optional<DType> parsed = parse_dtype(dtype.get<std::string>());
    if (!parsed)
      corrupt(where, " has dtype ", brief(dtype), ", expected one of F32, F64, BF16, I32, I64, U8, BOOL");
    const Json& shape = info["shape"];
    if (!shape.is_array()) corrupt(where, " has shape ", brief(shape), ", expected an array of sizes");
    Entry e{name, *parsed, {}, 0, 0};
    std::uint64_t need = element_size(e.dtype);
    bool overflow = false;
    for (const Json& d : shape) {
      std::uint64_t size = unsigned_field(d, where + " shape entry");
      if (size > static_cast<std::uint64_t>(INT64_MAX)) corrupt(where, " has size ", size, " in its shape");
      overflow = overflow || __builtin_mul_overflow(need, size, &need);
      e.shape.push_back(static_cast<std::int64_t>(size));
    }
    const Json& offsets = info["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2)
      corrupt(where, " has data_offsets ", brief(offsets), ", expected [begin, end]");
    e.begin = unsigned_field(offsets[0], where + " data_offsets begin");
    e.end = unsigned_field(offsets[1], where + " data_offsets end");
    if (e.begin > e.end) corrupt(where, " has data_offsets [", e.begin, ", ", e.end, "] with begin > end");
    if (e.end > data_bytes)
      corrupt(where, " has data_offsets [", e.begin, ", ", e.end, "] out of range: the data section holds ",
              data_bytes, " bytes");
    if (overflow || need != e.end - e.begin)
      corrupt(where, " of shape ", shape_str(e.shape), " and dtype ", dtype.get<std::string>(), " needs ",
              overflow ? std::string("more than 2^64") : std::to_string(need), " bytes, but its data_offsets [",
              e.begin, ", ", e.end, "] span ", e.end - e.begin);
    return e;
  }

  // The data section must be covered exactly once, in order, with nothing left over.
  void check_layout(std::vector<Entry>& entries, std::uint64_t data_bytes) const {
    std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
      return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    std::uint64_t pos = 0;
    const Entry* previous = nullptr;
    for (const Entry& e : entries) {
      if (e.begin < pos)
        corrupt("tensor '", e.name, "' [", e.begin, ", ", e.end, ") overlaps tensor '", previous->name, "' [",
                previous->begin, ", ", previous->end, ")");
      if (e.begin > pos) corrupt("bytes [", pos, ", ", e.begin, ") of the data section belong to no tensor");
      pos = e.end;
      previous = &e;
    }
    if (pos != data_bytes)
      corrupt("trailing garbage: expected the data to end at byte ", pos, " of the data section, found ",
              data_bytes - pos, " more bytes");
  }

  TensorFile load() {
    std::string why;
    std::unique_ptr<std::FILE, FileCloser> file(fopen_regular_file(path_, &why));  // a FIFO is refused, not waited on
    if (!file) fail("cannot open tensor file ", path_, ": ", why);
    struct stat st{};
    if (::fstat(::fileno(file.get()), &st) != 0) fail("cannot read tensor file ", path_, ": ", std::strerror(errno));
    const auto file_bytes = static_cast<std::uint64_t>(st.st_size);
    if (file_bytes < 8) corrupt("expected at least 8 bytes (the header length), found ", file_bytes);
    unsigned char prefix[8];
    read(file.get(), prefix, 8);
    std::uint64_t header_bytes = 0;
    for (int i = 7; i >= 0; --i) header_bytes = header_bytes << 8 | prefix[i];
    if (header_bytes > kMaxHeaderBytes)
      corrupt("header length ", header_bytes, " is absurd, expected at most ", kMaxHeaderBytes, " bytes");
    if (header_bytes > file_bytes - 8)
      corrupt("header length ", header_bytes, " is larger than the file, which has ", file_bytes - 8,
              " bytes after the length");
    std::string text(header_bytes, '\0');
    read(file.get(), text.data(), header_bytes);
    Json header = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (header.is_discarded()) corrupt("the header is not valid JSON");
    if (!header.is_object()) corrupt("the header must be a JSON object, found ", header.type_name());

    const std::uint64_t data_bytes = file_bytes - 8 - header_bytes;
    TensorFile out;
    std::vector<Entry> entries;
    for (const auto& [key, value] : header.items()) {
      if (key != kMetadataKey) {
        entries.push_back(parse_entry(key, value, data_bytes));
        continue;
      }
      if (!value.is_object()) corrupt("__metadata__ must be an object, found ", value.type_name());
      for (const auto& [k, v] : value.items()) {
        if (!v.is_string()) corrupt("__metadata__ must map strings to strings, found \"", k, "\": ", brief(v));
        out.metadata[k] = v.get<std::string>();
      }
    }
    check_layout(entries, data_bytes);
    for (const Entry& e : entries) {  // sequential: the layout check proved they are back to back
      Tensor t;
      try {  // a shape whose zero hides absurd sizes beside it: no data, but no strides either
        t = Tensor::empty(e.shape, e.dtype);
      } catch (const ValueError& error) {
        corrupt("tensor '", e.name, "': ", error.what());
      }
      read(file.get(), t.raw_data(), e.end - e.begin);
      if (e.dtype == DType::boolean) check_bools(e.name, static_cast<const unsigned char*>(t.raw_data()), t.numel());
      out.tensors.emplace_back(e.name, std::move(t));
    }
    return out;
  }

 private:
  void read(std::FILE* file, void* data, std::uint64_t nbytes) const {
    if (nbytes != 0 && std::fread(data, 1, nbytes, file) != nbytes)
      corrupt("expected ", nbytes, " more bytes, the read came up short");
  }

  // Any byte but 0 and 1 in a bool is undefined behaviour once read as a bool.
  void check_bools(const std::string& name, const unsigned char* bytes, std::int64_t n) const {
    for (std::int64_t i = 0; i < n; ++i)
      if (bytes[i] > 1)
        corrupt("BOOL tensor '", name, "' holds byte ", int(bytes[i]), " at element ", i, ", expected 0 or 1");
  }

  std::string path_;
};

}  // namespace

void save_tensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                  const std::map<std::string, std::string>& metadata) {
  const std::string what = "save_tensors(" + path + ")";
  Json header = Json::object();
  std::set<std::string> names;
  std::uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    check_host(t, what + " tensor '" + name + "'");
    if (name == kMetadataKey) fail<ValueError>(what, ": a tensor cannot be named ", kMetadataKey);
    if (!names.insert(name).second) fail<ValueError>(what, ": two tensors are named '", name, "'");
    const std::uint64_t nbytes = static_cast<std::uint64_t>(t.numel()) * element_size(t.dtype());
    header[name] = {{"dtype", file_dtype_name(t.dtype())},
                    {"shape", t.shape()},
                    {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
  }
  if (!metadata.empty()) header[kMetadataKey] = metadata;
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception& e) {
    fail<ValueError>(what, ": tensor names and metadata must be valid UTF-8 (", e.what(), ")");
  }
  text.append((8 - text.size() % 8) % 8, ' ');  // the data then starts 8-byte aligned
  unsigned char prefix[8];
  for (int i = 0; i < 8; ++i) prefix[i] = static_cast<unsigned char>(text.size() >> (8 * i));

  write_atomically(path, [&](std::FILE* file) {
    write_bytes(file, prefix, 8, path);
    write_bytes(file, text.data(), text.size(), path);
    std::vector<std::uint8_t> scratch;
    for (const auto& [name, t] : tensors) {
      const std::uint8_t* bytes = host_bytes(t, scratch, what);
      write_bytes(file, bytes, static_cast<std::size_t>(t.numel()) * element_size(t.dtype()), path);
    }
  });
}

TensorFile load_tensors(const std::string& path) { return Loader(path).load(); }

}  // namespace cortex::io
