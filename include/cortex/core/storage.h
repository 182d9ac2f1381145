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
