// Host memory posing as a GPU's, so that tests without a GPU can make tensors
// "on cuda:0" for checks that must refuse them before any kernel touches them.
#pragma once

#include <cstdlib>

#include "cortex/core/storage.h"
#include "cortex/ops/creation.h"

namespace cortex::testing {

// Installs a malloc-backed CUDA allocator while alive, then puts back the one before.
class FakeCudaMemory final : public Allocator {
 public:
  FakeCudaMemory() {
    // The dispatch table installs the CUDA build's own allocator on first use: fill it
    // now, so that it cannot replace this one later.
    (void)zeros({1});
    try {
      previous_ = &allocator_for(Device::cuda());
    } catch (const DeviceError&) {
    }
    set_allocator(DeviceType::CUDA, this);
  }
  ~FakeCudaMemory() override { set_allocator(DeviceType::CUDA, previous_); }
  FakeCudaMemory(const FakeCudaMemory&) = delete;
  FakeCudaMemory& operator=(const FakeCudaMemory&) = delete;

  void* allocate(std::size_t nbytes, Device) override { return std::malloc(nbytes == 0 ? 1 : nbytes); }
  void deallocate(void* ptr, Device) override { std::free(ptr); }

 private:
  Allocator* previous_ = nullptr;
};

}  // namespace cortex::testing
