// Metrics: Keras's accuracy variants (picked from the loss), top-k, confusion matrix.
#pragma once

#include <string>
#include <utility>

#include "cortex/core/tensor.h"

namespace cortex::train {

// "accuracy" resolved against the loss as Keras does: sparse_categorical_accuracy
// for sparse labels, binary_accuracy (threshold 0.5) for binary cross-entropy;
// for other losses it stays "accuracy", which metric_hits takes as binary_accuracy
// on one output column and categorical_accuracy otherwise. Other names pass through.
std::string resolve_metric(const std::string& metric, const std::string& loss);

// How many of the batch's samples the metric counts as right (a sum, so that
// epoch figures are exact means over samples). Metrics: categorical_accuracy,
// sparse_categorical_accuracy, binary_accuracy, top_k_categorical_accuracy (k=5),
// sparse_top_k_categorical_accuracy, and "accuracy" (above). Targets that do not fit
// the predictions (shape, or a label outside the classes) are an error.
double metric_hits(const std::string& metric, const Tensor& y_true, const Tensor& y_pred);

// The class a model's output (1, C) predicts and its probability: the largest of C
// columns, or for one column (a sigmoid) class 1 when p > 0.5 (binary_accuracy's and
// the report's threshold), with p, else class 0 with 1 - p.
std::pair<std::int64_t, double> predicted_class(const Tensor& probs);

// counts[i, j] = samples with label i predicted as j. labels, predictions: (N) integers.
Tensor confusion_matrix(const Tensor& labels, const Tensor& predictions, std::int64_t num_classes);

}  // namespace cortex::train
