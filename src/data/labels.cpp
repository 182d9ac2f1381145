// to_categorical: integer class labels to one-hot rows, checked like Keras's.
#include "cortex/data/labels.h"

#include "cortex/ops/shape_ops.h"

namespace cortex::data {

Tensor to_categorical(const Tensor& labels, std::int64_t num_classes) {
  if (!labels.defined()) fail<ValueError>("to_categorical expects a labels tensor, got an undefined tensor");
  if (!is_integral(labels.dtype()))
    fail<DTypeError>("to_categorical expects integer labels (u8, i32 or i64), got ", dtype_name(labels.dtype()));
  if (num_classes < 1) fail<ValueError>("to_categorical expects num_classes >= 1, got ", num_classes);
  Tensor l = labels.dim() > 1 && labels.size(-1) == 1 ? labels.squeeze(-1) : labels;
  std::vector<std::int64_t> values = l.to_vector<std::int64_t>();
  for (std::size_t i = 0; i < values.size(); ++i)
    if (values[i] < 0 || values[i] >= num_classes)
      fail<IndexError>("to_categorical expects labels in [0, ", num_classes - 1, "], got ", values[i], " at position ",
                       i);
  return one_hot(l, num_classes);
}

}  // namespace cortex::data
