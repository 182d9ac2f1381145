// The dispatch table: filled once by explicit register calls, read by every op.
#include <array>
#include <mutex>

#include "cortex/backends/kernels.h"

#ifdef CORTEX_WITH_CUDA
#include "backends/cuda/cuda_runtime.h"
#endif

namespace cortex::backend {
namespace {

thread_local Backend cpu_backend = Backend::Cpu;

std::array<Kernels, kNumBackends>& table() {
  static std::array<Kernels, kNumBackends> rows;
  static std::once_flag once;
  std::call_once(once, [] {
    register_ref(rows[static_cast<int>(Backend::Ref)]);
    register_cpu(rows[static_cast<int>(Backend::Cpu)]);
#ifdef CORTEX_WITH_CUDA
    register_cuda(rows[static_cast<int>(Backend::Cuda)]);
#endif
  });
  return rows;
}

}  // namespace

const char* backend_name(Backend b) {
  switch (b) {
    case Backend::Ref: return "ref";
    case Backend::Cpu: return "cpu";
    case Backend::Cuda: return "cuda";
  }
  return "?";
}

const char* unary_name(UnaryOp op) {
  static const char* names[] = {"neg",  "exp",        "log", "sqrt", "rsqrt",   "abs",
                                "square", "sign",     "relu", "leaky_relu", "elu", "selu",
                                "sigmoid", "tanh",    "gelu", "softplus", "silu", "clamp"};
  return names[static_cast<int>(op)];
}

const char* binary_name(BinaryOp op) {
  static const char* names[] = {"add", "sub", "mul", "div", "pow", "maximum", "minimum",
                                "eq",  "ne",  "lt",  "le",  "gt",  "ge"};
  return names[static_cast<int>(op)];
}

const char* reduce_name(ReduceOp op) {
  static const char* names[] = {"sum", "mean", "max", "min", "argmax", "argmin"};
  return names[static_cast<int>(op)];
}

Backend backend_for(Device device) {
  if (device.is_cuda()) {
    if (!cuda_available())
      fail<DeviceError>("tensor is on ", device.str(), " but no CUDA device is available",
#ifdef CORTEX_WITH_CUDA
                        " (the CUDA runtime found none)"
#else
                        " (this build has no CUDA backend; configure with the cuda preset)"
#endif
      );
    return Backend::Cuda;
  }
  return cpu_backend;
}

const Kernels& kernels(Backend backend) { return table()[static_cast<int>(backend)]; }

void missing_kernel(const char* op_name, Backend backend) {
  fail<Error>(op_name, " has no kernel on the ", backend_name(backend), " backend yet");
}

BackendScope::BackendScope(Backend b) : previous_(cpu_backend) {
  if (b == Backend::Cuda)
    fail<ValueError>("BackendScope selects the backend for CPU tensors: ref or cpu, got cuda");
  cpu_backend = b;
}

BackendScope::~BackendScope() { cpu_backend = previous_; }

CudaMath& cuda_math() {
  static CudaMath math;
  return math;
}

void cuda_profiler(bool on) {
#ifdef CORTEX_WITH_CUDA
  if (cuda_available()) cuda_profiler_capture(on);
#else
  (void)on;
#endif
}

bool cuda_available() {
#ifdef CORTEX_WITH_CUDA
  static const bool available = cuda_runtime_available();
  return available;
#else
  return false;
#endif
}

}  // namespace cortex::backend
