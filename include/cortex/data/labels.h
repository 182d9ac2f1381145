// Label encodings (Keras's keras.utils.to_categorical).
#pragma once

#include <cstdint>

#include "cortex/core/tensor.h"

namespace cortex::data {

// labels: integer tensor (N) -> (N, num_classes) f32 one-hot. Like Keras, a
// trailing axis of size 1 is dropped first: (N, 1) also gives (N, num_classes).
// Labels outside [0, num_classes) throw IndexError.
Tensor to_categorical(const Tensor& labels, std::int64_t num_classes);

}  // namespace cortex::data
