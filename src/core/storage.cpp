// Storage and the per-device allocators (CPU here; CUDA installs its own).
#include "cortex/core/storage.h"

#include <array>
#include <cstdlib>
#include <new>

#include "cortex/core/error.h"

namespace cortex {
namespace {

class CpuAllocator final : public Allocator {
 public:
  void* allocate(std::size_t nbytes, Device) override {
    std::size_t rounded = (nbytes + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
    if (p == nullptr)
      fail<Error>("out of host memory: could not allocate ", nbytes, " bytes");
    return p;
  }
  void deallocate(void* ptr, Device) override { std::free(ptr); }
};

std::array<Allocator*, kNumDeviceTypes>& allocators() {
  static CpuAllocator cpu;
  static std::array<Allocator*, kNumDeviceTypes> table{&cpu, nullptr};
  return table;
}

}  // namespace

void set_allocator(DeviceType type, Allocator* allocator) {
  allocators()[static_cast<int>(type)] = allocator;
}

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
