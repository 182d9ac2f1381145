// Joining, splitting, padding and indexing tensors.
#pragma once

#include <utility>
#include <vector>

#include "cortex/core/generator.h"
#include "cortex/core/tensor.h"

namespace cortex {

Tensor concat(const std::vector<Tensor>& tensors, std::int64_t axis = 0);
Tensor stack(const std::vector<Tensor>& tensors, std::int64_t axis = 0);
// Pieces of the given sizes along `axis` (views of x).
std::vector<Tensor> split(const Tensor& x, const std::vector<std::int64_t>& sizes, std::int64_t axis = 0);
// The slices of x along `axis`, that axis removed (views of x; one recorded node).
std::vector<Tensor> unbind(const Tensor& x, std::int64_t axis = 0);
// `parts` equal pieces; the axis must divide evenly.
std::vector<Tensor> chunk(const Tensor& x, std::int64_t parts, std::int64_t axis = 0);
// pads[i] = {before, after} for axis i (fewer entries pad the leading axes only).
Tensor pad(const Tensor& x, const std::vector<std::pair<std::int64_t, std::int64_t>>& pads, double value = 0.0);

// Rows of x along `axis` picked by a 1-D integer index (embedding lookup).
Tensor index_select(const Tensor& x, std::int64_t axis, const Tensor& index);
// out[..., i, ...] = x[..., index[..., i, ...], ...] along axis (torch.gather); index has x's
// shape except along axis.
Tensor gather(const Tensor& x, std::int64_t axis, const Tensor& index);
// labels: integer tensor of any shape -> labels.shape + (num_classes), f32.
Tensor one_hot(const Tensor& labels, std::int64_t num_classes);

// Inverted dropout: zeroes a fraction `rate` and scales the rest by 1 / (1 - rate);
// the identity when !training.
Tensor dropout(const Tensor& x, double rate, bool training, Generator& gen);

}  // namespace cortex
