// Storage: one block of device memory shared by every view of it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "cortex/core/device.h"

namespace cortex {

// Device memory allocator. Backends install theirs with set_allocator (the
// CUDA backend does so in its register call); CPU memory is 64-byte aligned.
class Allocator {
 public:
  virtual ~Allocator() = default;
  // `device` is the storage's device (a CUDA allocator needs its index).
  virtual void* allocate(std::size_t nbytes, Device device) = 0;
  virtual void deallocate(void* ptr, Device device) = 0;
};

void set_allocator(DeviceType type, Allocator* allocator);
Allocator& allocator_for(Device device);  // throws DeviceError when none is installed

// Host memory blocks of 1 MiB and more are mapped directly (from 4 MiB up in
// whole 2 MiB transparent huge pages: one page fault per 2 MiB on first touch
// instead of one per 4 KiB) and kept when their storage dies, for the next
// request that maps the same size: a training or inference loop asks for the
// same sizes every step. Smaller blocks go to malloc. The cache holds at most
// its limit (512 MiB unless set), and no block over half of it; 0 turns it
// off. AddressSanitizer builds take every block from malloc, uncached, so that
// use after free is still caught.
struct HostCacheStats {
  std::size_t cached_bytes = 0, cached_blocks = 0;  // kept now, not in use
  std::uint64_t hits = 0, misses = 0;               // large requests served from the cache or not
};
HostCacheStats host_cache_stats();
std::size_t host_cache_limit(std::size_t bytes);  // frees cached blocks beyond it; returns the old limit
void host_empty_cache();                   // frees every cached block

class Storage {
 public:
  Storage(std::size_t nbytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  std::size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

  // Bumped by every in-place write through the public API (copy_, fill_), so
  // autograd can tell that a tensor a backward needs was overwritten.
  std::uint64_t version() const { return version_; }
  void bump_version() { ++version_; }

 private:
  void* data_ = nullptr;
  std::size_t nbytes_ = 0;
  Device device_;
  Allocator* allocator_ = nullptr;
  std::uint64_t version_ = 0;
};

}  // namespace cortex
