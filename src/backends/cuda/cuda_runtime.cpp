// Probing the CUDA runtime for a device, and each device's stream.
#include "backends/cuda/cuda_runtime.h"

#include <cuda_profiler_api.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <mutex>

#include "backends/cuda/cuda_common.h"

namespace cortex::backend {

bool cuda_runtime_available() noexcept {
  static const bool available = [] {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess) {
      cudaGetLastError();  // no driver or no device: clear the error, answer no
      return false;
    }
    return count > 0;
  }();
  return available;
}

void cuda_profiler_capture(bool on) {
  cuda::check(on ? cudaProfilerStart() : cudaProfilerStop(), on ? "cudaProfilerStart" : "cudaProfilerStop");
}

namespace cuda {

constexpr int kMaxDevices = 16;

cudaStream_t stream(Device device) {
  // Leaked on purpose: storages freed during exit still need them.
  static auto* streams = new std::array<cudaStream_t, kMaxDevices>{};
  static auto* mutex = new std::mutex;
  if (!device.is_cuda() || device.index < 0 || device.index >= kMaxDevices)
    fail<DeviceError>("the CUDA backend expects a device cuda:0 to cuda:", kMaxDevices - 1, ", got ",
                      device.str());
  std::lock_guard<std::mutex> lock(*mutex);
  cudaStream_t& s = (*streams)[static_cast<std::size_t>(device.index)];
  if (s == nullptr) {
    DeviceGuard guard(device);
    // A blocking stream: work on it still orders with the legacy default stream,
    // so a plain cudaMemcpy elsewhere (a library, a test) sees its results.
    check(cudaStreamCreate(&s), "cudaStreamCreate");
  }
  return s;
}

namespace {

// Pinned host buffers that host-to-device copies pass through: a copy from
// pageable memory makes the runtime synchronise the stream first, which would
// stall a training loop at every batch. A buffer is reused once the event
// recorded after its copy has fired (by then long ago, with 8 in the ring).
struct Staging {
  void* ptr = nullptr;
  std::size_t capacity = 0;
  cudaEvent_t done = nullptr;
  bool in_flight = false;
};

constexpr std::size_t kRing = 8;
constexpr std::size_t kMaxStaged = std::size_t{64} << 20;  // larger copies go straight from pageable memory

}  // namespace

void copy_host_to_device(void* dst, const void* src, std::size_t nbytes, Device device) {
  DeviceGuard guard(device);
  cudaStream_t s = stream(device);
  if (nbytes > kMaxStaged) {
    check(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyHostToDevice, s), "cudaMemcpyAsync (host to device)");
    return;
  }
  static auto* rings = new std::array<std::array<Staging, kRing>, kMaxDevices>{};
  static auto* next = new std::array<std::size_t, kMaxDevices>{};
  static auto* mutex = new std::mutex;
  std::lock_guard<std::mutex> lock(*mutex);
  const auto d = static_cast<std::size_t>(device.index);
  Staging& b = (*rings)[d][(*next)[d]++ % kRing];
  if (b.in_flight) check(cudaEventSynchronize(b.done), "cudaEventSynchronize (staging buffer)");
  if (b.done == nullptr) check(cudaEventCreateWithFlags(&b.done, cudaEventDisableTiming), "cudaEventCreate");
  if (b.capacity < nbytes) {
    if (b.ptr != nullptr) check(cudaFreeHost(b.ptr), "cudaFreeHost");
    b.ptr = nullptr;
    b.capacity = 0;
    const std::size_t capacity = std::max<std::size_t>(nbytes, std::size_t{1} << 20);
    check(cudaHostAlloc(&b.ptr, capacity, cudaHostAllocDefault), "cudaHostAlloc (staging buffer)");
    b.capacity = capacity;
  }
  std::memcpy(b.ptr, src, nbytes);
  check(cudaMemcpyAsync(dst, b.ptr, nbytes, cudaMemcpyHostToDevice, s), "cudaMemcpyAsync (host to device)");
  check(cudaEventRecord(b.done, s), "cudaEventRecord");
  b.in_flight = true;
}

void synchronize(Device device) {
  DeviceGuard guard(device);
  check(cudaStreamSynchronize(stream(device)), "cudaStreamSynchronize");
}

}  // namespace cuda
}  // namespace cortex::backend
