// The cpu backend's oneDNN plumbing: the engine, a stream per thread, an LRU
// cache of primitives keyed by shapes and parameters, per-thread scratch
// buffers for reordered operands, and the translation of oneDNN errors.
#pragma once

#include <omp.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "cortex/core/error.h"
#include "cortex/core/tensor.h"

namespace cortex::backend::cpu {

dnnl::engine& engine();
dnnl::stream& stream();  // this thread's in-order stream on engine()

// A cache key: the op's name followed by every size, stride and parameter
// that changes the primitive, e.g. key("conv_fwd", x.shape(), w.shape(), p.stride_h),
// and the thread count (oneDNN splits the work for it when it builds a primitive).
template <typename... Args>
std::string key(const char* op, const Args&... args) {
  std::ostringstream out;
  out.precision(17);  // every double in full: an epsilon of 1e-5 and one of 1.0000001e-5 are two primitives
  out << op << '@' << omp_get_max_threads();
  const auto put = [&](const auto& a) {
    if constexpr (requires {
                    a.begin();
                    a.end();
                  }) {
      out << '[';
      for (const auto& v : a) out << v << ',';
      out << ']';
    } else {
      out << '|' << a;
    }
  };
  (put(args), ...);
  return out.str();
}

namespace detail {
std::shared_ptr<const void> cache_find(const std::string& key);
std::shared_ptr<const void> cache_insert(const std::string& key, std::shared_ptr<const void> entry);
}  // namespace detail

// The entry stored under `key`, built by make() (returning an E) on a miss.
// Bounded (least recently used entries go first) and safe across threads; the
// key's op prefix must name one entry type E.
template <typename E, typename Make>
std::shared_ptr<const E> cached(const std::string& key, Make&& make) {
  if (auto hit = detail::cache_find(key)) return std::static_pointer_cast<const E>(hit);
  auto made = std::make_shared<const E>(make());  // built outside the lock
  return std::static_pointer_cast<const E>(detail::cache_insert(key, std::move(made)));
}

std::size_t cache_size();  // entries held now (tests)

// A per-thread, 64-byte aligned buffer that only grows; slot k serves the k-th
// reordered operand of one kernel call.
void* scratch(int slot, std::size_t nbytes);

// One operand of a primitive: its layout in the user's tensor and the layout
// the primitive chose, with the reorder between them when they differ.
class Operand {
 public:
  Operand() = default;
  Operand(const dnnl::memory::desc& user, const dnnl::memory::desc& prim, bool is_input);

  // The operand in the primitive's layout: the user's memory itself, or a
  // reordered copy of it in scratch slot `slot` (inputs).
  dnnl::memory input(const void* user_data, int slot) const;
  // Memory the primitive writes into: the user's, or scratch slot `slot`.
  dnnl::memory output(void* user_data, int slot) const;
  // After the primitive ran: moves the result into the user's memory if needed.
  void finish(const dnnl::memory& written, void* user_data) const;

  const dnnl::memory::desc& prim_desc() const { return prim_; }

 private:
  dnnl::memory::desc user_, prim_;
  std::optional<dnnl::reorder> reorder_;
};

// NHWC activations as oneDNN sees them: dims {N, C, H, W}, tag nhwc.
dnnl::memory::desc nhwc_desc(const Shape& nhwc);
// The same logical shape with format_tag::any (the primitive picks).
dnnl::memory::desc any_desc(const Shape& nhwc);
// Contiguous f32 memory of `dims` (row-major).
dnnl::memory::desc plain_desc(const dnnl::memory::dims& dims);

// Runs body(); a dnnl::error becomes cortex::Error naming the op and what
// describe() returns (the shapes), so the user sees which call failed.
template <typename Body, typename Describe>
void run_dnnl(const char* op, Describe&& describe, Body&& body) {
  try {
    body();
  } catch (const dnnl::error& e) {
    fail<Error>("cpu ", op, ": oneDNN failed for ", describe(), ": ", e.what(), " (status ",
                static_cast<int>(e.status), ")");
  }
}

// Pointer to a tensor's first element as oneDNN wants it (non-const).
void* handle(const Tensor& t);

}  // namespace cortex::backend::cpu
