// Row-major bytes of a CPU tensor, copying non-contiguous views by walking their strides.
#include "host_bytes.h"

#include <cstring>

namespace cortex::io {

void check_host(const Tensor& t, const std::string& what) {
  if (!t.defined()) fail<ValueError>(what, " expects a defined tensor, got an undefined one");
  if (!t.device().is_cpu())
    fail<DeviceError>(what, " expects a CPU tensor, got one on ", t.device().str(),
                      " (move it with .to(Device::cpu()) first)");
}

const std::uint8_t* host_bytes(const Tensor& t, std::vector<std::uint8_t>& scratch, const std::string& what) {
  check_host(t, what);
  if (t.is_contiguous()) return static_cast<const std::uint8_t*>(t.raw_data());
  const std::size_t elem = element_size(t.dtype());
  const std::int64_t n = t.numel();
  const Shape& shape = t.shape();
  const Strides& strides = t.strides();
  scratch.resize(static_cast<std::size_t>(n) * elem);
  const auto* base = static_cast<const std::uint8_t*>(t.storage()->data());
  std::vector<std::int64_t> index(shape.size(), 0);
  std::int64_t src = t.offset();  // in elements
  for (std::int64_t i = 0; i < n; ++i) {
    std::memcpy(scratch.data() + i * elem, base + src * static_cast<std::int64_t>(elem), elem);
    for (std::size_t d = shape.size(); d-- > 0;) {  // odometer: last axis fastest
      src += strides[d];
      if (++index[d] < shape[d]) break;
      src -= strides[d] * shape[d];
      index[d] = 0;
    }
  }
  return scratch.data();
}

}  // namespace cortex::io
