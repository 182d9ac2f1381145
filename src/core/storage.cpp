// Storage and the per-device allocators (CPU here; CUDA installs its own).
#include "cortex/core/storage.h"

#include <sys/mman.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <map>
#include <mutex>
#include <new>
#include <unordered_map>

#include "cortex/core/error.h"

namespace cortex {
namespace {

// Blocks from kLarge up are mapped directly and cached; from kHuge up they
// sit in whole 2 MiB transparent huge pages. Under AddressSanitizer every
// block comes from malloc, which it watches.
#if defined(__SANITIZE_ADDRESS__)
constexpr std::size_t kLarge = SIZE_MAX;
constexpr std::size_t kDefaultCacheLimit = 0;
#else
constexpr std::size_t kLarge = std::size_t{1} << 20;
// 512 MiB: the lecture CNN's inference in batches of 1,000 frees a 141 MiB
// activation every batch; under a 256 MiB limit it was over half and never
// kept, and zeroing its fresh pages again cost about 12 % of inference time.
constexpr std::size_t kDefaultCacheLimit = std::size_t{512} << 20;
#endif
constexpr std::size_t kHuge = std::size_t{4} << 20;  // below it a huge page could double the footprint
constexpr std::size_t kHugePage = std::size_t{2} << 20;
constexpr std::size_t kPage = 4096;

std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

// The bytes a request of nbytes >= kLarge maps.
std::size_t capacity_for(std::size_t nbytes) {
  return round_up(nbytes, nbytes >= kHuge ? kHugePage : std::size_t{64} << 10);
}

// `bytes` of fresh zero pages; from kHuge up at a huge-page boundary and marked
// for transparent huge pages (one page fault per 2 MiB instead of one per
// 4 KiB). Null when the system refuses.
void* map_large(std::size_t bytes) {
  const bool huge = bytes >= kHuge;
  const std::size_t extra = huge ? kHugePage : 0;
  void* raw = mmap(nullptr, bytes + extra, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  if (!huge) return raw;
  const auto begin = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t aligned = round_up(begin, kHugePage);
  if (aligned > begin) munmap(raw, aligned - begin);
  const std::size_t tail = begin + bytes + extra - (aligned + bytes);
  if (tail > 0) munmap(reinterpret_cast<void*>(aligned + bytes), tail);
  void* p = reinterpret_cast<void*>(aligned);
  madvise(p, bytes, MADV_HUGEPAGE);  // advice only: without THP the pages stay small
  return p;
}

void* checked(void* p, std::size_t nbytes) {
  if (p == nullptr) fail<Error>("out of host memory: could not allocate ", nbytes, " bytes");
  return p;
}

class CpuAllocator final : public Allocator {
 public:
  void* allocate(std::size_t nbytes, Device) override {
    if (nbytes < kLarge) return checked(std::aligned_alloc(64, nbytes == 0 ? 64 : round_up(nbytes, 64)), nbytes);
    if (nbytes > SIZE_MAX / 2) fail<Error>("out of host memory: could not allocate ", nbytes, " bytes");
    const std::size_t capacity = capacity_for(nbytes);
    std::lock_guard lock(mutex_);
    if (const auto it = free_.find(capacity); it != free_.end()) {
      void* p = it->second;
      live_.emplace(p, capacity);  // first: if it throws, the block is still cached
      free_.erase(it);
      stats_.cached_bytes -= capacity;
      --stats_.cached_blocks;
      ++stats_.hits;
      return p;
    }
    ++stats_.misses;
    void* p = map_large(capacity);
    if (p == nullptr) {  // what the cache holds may be what is missing
      trim(0);
      p = map_large(capacity);
    }
    checked(p, nbytes);
    try {
      live_.emplace(p, capacity);
    } catch (...) {
      munmap(p, capacity);
      throw;
    }
    return p;
  }

  void deallocate(void* ptr, Device) noexcept override {
    // Mapped blocks start on a page; most malloc blocks do not, and skip the lock.
    if (reinterpret_cast<std::uintptr_t>(ptr) % kPage != 0) return std::free(ptr);
    std::unique_lock lock(mutex_);
    const auto it = live_.find(ptr);
    if (it == live_.end()) {
      lock.unlock();
      std::free(ptr);
      return;
    }
    const std::size_t capacity = it->second;
    live_.erase(it);
    if (2 * capacity > limit_) {  // a block that would crowd out the rest
      munmap(ptr, capacity);
      return;
    }
    trim(limit_ - capacity);
    try {
      free_.emplace(capacity, ptr);
    } catch (...) {  // no memory for the cache's own node: give the block back instead
      munmap(ptr, capacity);
      return;
    }
    stats_.cached_bytes += capacity;
    ++stats_.cached_blocks;
  }

  HostCacheStats stats() {
    std::lock_guard lock(mutex_);
    return stats_;
  }

  void empty() {
    std::lock_guard lock(mutex_);
    trim(0);
  }

  std::size_t set_limit(std::size_t bytes) {
    std::lock_guard lock(mutex_);
    const std::size_t old = limit_;
    limit_ = bytes;
    trim(limit_);
    return old;
  }

 private:
  // Unmaps the largest cached blocks until at most `keep` bytes stay cached.
  void trim(std::size_t keep) {
    while (stats_.cached_bytes > keep && !free_.empty()) {
      const auto last = std::prev(free_.end());
      munmap(last->second, last->first);
      stats_.cached_bytes -= last->first;
      --stats_.cached_blocks;
      free_.erase(last);
    }
  }

  std::mutex mutex_;
  std::multimap<std::size_t, void*> free_;      // capacity -> cached block
  std::unordered_map<void*, std::size_t> live_;  // large blocks in use -> capacity
  std::size_t limit_ = kDefaultCacheLimit;
  HostCacheStats stats_;
};

CpuAllocator& cpu_allocator() {
  static auto* cpu = new CpuAllocator;  // never destroyed: storages may die during exit
  return *cpu;
}

std::array<Allocator*, kNumDeviceTypes>& allocators() {
  static std::array<Allocator*, kNumDeviceTypes> table{&cpu_allocator(), nullptr};
  return table;
}

}  // namespace

void set_allocator(DeviceType type, Allocator* allocator) {
  allocators()[static_cast<int>(type)] = allocator;
}

HostCacheStats host_cache_stats() { return cpu_allocator().stats(); }
std::size_t host_cache_limit(std::size_t bytes) { return cpu_allocator().set_limit(bytes); }
void host_empty_cache() { cpu_allocator().empty(); }

Allocator& allocator_for(Device device) {
  Allocator* a = allocators()[static_cast<int>(device.type)];
  if (a == nullptr)
    fail<DeviceError>("no allocator for device ", device.str(),
                      ": this build has no backend for it (configure with the cuda preset)");
  return *a;
}

Storage::Storage(std::size_t nbytes, Device device)
    : nbytes_(nbytes), device_(device), allocator_(&allocator_for(device)) {
  data_ = allocator_->allocate(nbytes, device);
}

Storage::~Storage() { allocator_->deallocate(data_, device_); }

}  // namespace cortex
