// Losses. The softmax cross-entropies are fused: one node, stable gradient.
#pragma once

#include "cortex/core/tensor.h"

namespace cortex {

enum class Reduction { none, sum, mean };

// logits: (N, C); targets: (N, C) probabilities (e.g. one-hot) -> loss per row, reduced.
Tensor softmax_cross_entropy(const Tensor& logits, const Tensor& targets, Reduction r = Reduction::mean);
// logits: (N, C); labels: (N) integers in [0, C).
Tensor sparse_softmax_cross_entropy(const Tensor& logits, const Tensor& labels, Reduction r = Reduction::mean);
// Keras's categorical_crossentropy on probabilities (rows renormalised, clipped to [eps, 1 - eps]).
Tensor categorical_cross_entropy(const Tensor& probs, const Tensor& targets, Reduction r = Reduction::mean,
                                 double eps = 1e-7);
// Mean over the last axis, then reduced (Keras's convention).
Tensor mse(const Tensor& pred, const Tensor& target, Reduction r = Reduction::mean);
// On probabilities clipped to [eps, 1 - eps].
Tensor binary_cross_entropy(const Tensor& probs, const Tensor& targets, Reduction r = Reduction::mean,
                            double eps = 1e-7);
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& targets,
                                        Reduction r = Reduction::mean);

}  // namespace cortex
