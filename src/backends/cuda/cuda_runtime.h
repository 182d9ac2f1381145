// Whether the CUDA runtime sees a GPU. Free of CUDA headers so that the
// backend registry can ask without pulling the toolkit into its includes.
//
// Note: include it as "backends/cuda/cuda_runtime.h"; CUDA's own header of the
// same name is reached with <cuda_runtime.h> (angle brackets).
#pragma once

namespace cortex::backend {

// True when cudaGetDeviceCount reports at least one device. Never throws: a
// machine without a driver or a GPU answers false. Probed once per process.
bool cuda_runtime_available() noexcept;

// cudaProfilerStart (on) or cudaProfilerStop.
void cuda_profiler_capture(bool on);

}  // namespace cortex::backend
