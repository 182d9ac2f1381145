// The cpu backend's oneDNN engine, streams, primitive cache and scratch memory.
#include "backends/cpu/dnnl_context.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <list>
#include <mutex>
#include <unordered_map>

namespace cortex::backend::cpu {
namespace {

// Enough for every shape a training run uses, small enough that a sweep over
// many shapes (tests, benchmarks) does not hold on to memory forever.
constexpr std::size_t kCacheCapacity = 512;

struct Cache {
  std::mutex mutex;
  // Most recently used first; the map points into the list.
  std::list<std::pair<std::string, std::shared_ptr<const void>>> order;
  std::unordered_map<std::string, decltype(order)::iterator> index;
};

Cache& cache() {
  static Cache c;
  return c;
}

struct AlignedFree {
  void operator()(void* p) const { std::free(p); }
};

struct ScratchSlot {
  std::unique_ptr<void, AlignedFree> data;
  std::size_t nbytes = 0;
};

constexpr int kScratchSlots = 8;

}  // namespace

dnnl::engine& engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

dnnl::stream& stream() {
  thread_local dnnl::stream s(engine());
  return s;
}

namespace detail {

std::shared_ptr<const void> cache_find(const std::string& key) {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  auto it = c.index.find(key);
  if (it == c.index.end()) return nullptr;
  c.order.splice(c.order.begin(), c.order, it->second);
  return it->second->second;
}

std::shared_ptr<const void> cache_insert(const std::string& key,
                                         std::shared_ptr<const void> entry) {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  if (auto it = c.index.find(key); it != c.index.end()) return it->second->second;  // lost a race
  c.order.emplace_front(key, std::move(entry));
  c.index.emplace(key, c.order.begin());
  while (c.order.size() > kCacheCapacity) {
    c.index.erase(c.order.back().first);
    c.order.pop_back();
  }
  return c.order.front().second;
}

}  // namespace detail

std::size_t cache_size() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  return c.order.size();
}

void* scratch(int slot, std::size_t nbytes) {
  thread_local std::array<ScratchSlot, kScratchSlots> slots;
  if (slot < 0 || slot >= kScratchSlots)
    fail<ValueError>("cpu scratch: slot ", slot, " is outside [0, ", kScratchSlots, ")");
  ScratchSlot& s = slots[static_cast<std::size_t>(slot)];
  if (s.nbytes < nbytes) {
    const std::size_t rounded = (nbytes + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, rounded);
    if (p == nullptr) fail<Error>("cpu scratch: out of memory allocating ", rounded, " bytes");
    s.data.reset(p);
    s.nbytes = rounded;
  }
  return s.data.get();
}

Operand::Operand(const dnnl::memory::desc& user, const dnnl::memory::desc& prim, bool is_input)
    : user_(user), prim_(prim) {
  if (user_ == prim_) return;
  reorder_ = is_input
                 ? dnnl::reorder(dnnl::reorder::primitive_desc(engine(), user_, engine(), prim_))
                 : dnnl::reorder(dnnl::reorder::primitive_desc(engine(), prim_, engine(), user_));
}

dnnl::memory Operand::input(const void* user_data, int slot) const {
  dnnl::memory user(user_, engine(), const_cast<void*>(user_data));
  if (!reorder_) return user;
  dnnl::memory prim(prim_, engine(), scratch(slot, prim_.get_size()));
  reorder_->execute(stream(), user, prim);
  return prim;
}

dnnl::memory Operand::output(void* user_data, int slot) const {
  if (!reorder_) return dnnl::memory(user_, engine(), user_data);
  return dnnl::memory(prim_, engine(), scratch(slot, prim_.get_size()));
}

void Operand::finish(const dnnl::memory& written, void* user_data) const {
  if (!reorder_) return;
  dnnl::memory user(user_, engine(), user_data);
  reorder_->execute(stream(), {{DNNL_ARG_FROM, written}, {DNNL_ARG_TO, user}});
}

dnnl::memory::desc nhwc_desc(const Shape& s) {
  return dnnl::memory::desc({s[0], s[3], s[1], s[2]}, dnnl::memory::data_type::f32,
                            dnnl::memory::format_tag::nhwc);
}

dnnl::memory::desc any_desc(const Shape& s) {
  return dnnl::memory::desc({s[0], s[3], s[1], s[2]}, dnnl::memory::data_type::f32,
                            dnnl::memory::format_tag::any);
}

dnnl::memory::desc plain_desc(const dnnl::memory::dims& dims) {
  dnnl::memory::dims strides(dims.size());
  dnnl::memory::dim s = 1;
  for (std::size_t i = dims.size(); i-- > 0;) {
    strides[i] = s;
    s *= std::max<dnnl::memory::dim>(dims[i], 1);
  }
  return dnnl::memory::desc(dims, dnnl::memory::data_type::f32, strides);
}

void* handle(const Tensor& t) { return t.raw_data(); }

}  // namespace cortex::backend::cpu
