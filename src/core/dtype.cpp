// Names and sizes of the element types.
#include "cortex/core/dtype.h"

namespace cortex {

std::size_t element_size(DType t) {
  return visit_dtype(t, [](auto v) { return sizeof(v); });
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::f32: return "f32";
    case DType::f64: return "f64";
    case DType::bf16: return "bf16";
    case DType::i32: return "i32";
    case DType::i64: return "i64";
    case DType::u8: return "u8";
    case DType::boolean: return "bool";
  }
  return "?";
}

}  // namespace cortex
