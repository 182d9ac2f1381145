// Names and sizes of the element types.
#include "cortex/core/dtype.h"

#include "cortex/core/error.h"

namespace cortex {

std::size_t element_size(DType t) {
  return visit_dtype(t, [](auto v) { return sizeof(v); });
}

DType dtype_from_name(const std::string& name) {
  for (DType t : {DType::f32, DType::f64, DType::bf16, DType::i32, DType::i64, DType::u8, DType::boolean})
    if (name == dtype_name(t)) return t;
  fail<ValueError>("unknown dtype '", name, "'; expected f32, f64, bf16, i32, i64, u8 or bool");
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
