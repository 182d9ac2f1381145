// Accuracy variants, top-k and the confusion matrix.
#include "cortex/train/metrics.h"

#include "cortex/ops/creation.h"
#include "cortex/ops/elementwise.h"
#include "cortex/ops/reduce.h"

namespace cortex::train {
namespace {

// Sparse labels (N) or (N, 1) as i64 (N), each a class of y_pred (N, C).
Tensor labels_of(const Tensor& y_true, const Tensor& y_pred, const std::string& metric) {
  Tensor t = y_true;
  if (t.dim() == 2 && t.shape()[1] == 1 && y_pred.shape()[1] != 1) t = t.reshape({-1});
  if (t.dim() != 1 || t.shape()[0] != y_pred.shape()[0])
    fail<ShapeError>(metric, " expects labels of shape (", y_pred.shape()[0], ") or (", y_pred.shape()[0],
                     ", 1) for predictions ", shape_str(y_pred.shape()), ", got ", shape_str(y_true.shape()),
                     " (one-hot targets go with categorical_accuracy)");
  t = t.to(DType::i64);
  for (std::int64_t label : t.to_vector<std::int64_t>())
    if (label < 0 || label >= y_pred.shape()[1])
      fail<IndexError>(metric, " expects labels in [0, ", y_pred.shape()[1] - 1, "], got ", label);
  return t;
}

// Hits where the true class is among the k largest predictions.
double top_k_hits(const Tensor& labels, const Tensor& y_pred, std::int64_t k) {
  std::vector<float> p = y_pred.to(DType::f32).to_vector<float>();
  std::vector<std::int64_t> l = labels.to_vector<std::int64_t>();
  std::int64_t c = y_pred.shape()[1];
  double hits = 0;
  for (std::size_t i = 0; i < l.size(); ++i) {
    float target = p[i * c + l[i]];
    std::int64_t larger = 0;
    for (std::int64_t j = 0; j < c; ++j) larger += p[i * c + j] > target;
    hits += larger < k;
  }
  return hits;
}

}  // namespace

std::string resolve_metric(const std::string& metric, const std::string& loss) {
  if (metric == "accuracy" || metric == "acc") {
    if (loss == "sparse_categorical_crossentropy") return "sparse_categorical_accuracy";
    if (loss == "binary_crossentropy") return "binary_accuracy";
    return "accuracy";  // decided per batch from the predictions' shape (metric_hits)
  }
  if (metric == "top_k_categorical_accuracy" && loss == "sparse_categorical_crossentropy")
    return "sparse_top_k_categorical_accuracy";
  static const char* known[] = {"categorical_accuracy", "sparse_categorical_accuracy", "binary_accuracy",
                                "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy"};
  for (const char* k : known)
    if (metric == k) return metric;
  fail<ValueError>("unknown metric '", metric,
                   "'; expected accuracy, categorical_accuracy, sparse_categorical_accuracy, binary_accuracy, "
                   "top_k_categorical_accuracy or sparse_top_k_categorical_accuracy");
}

double metric_hits(const std::string& metric, const Tensor& y_true, const Tensor& y_pred) {
  if (metric == "accuracy")  // Keras's choice for other losses: binary for one output column
    return metric_hits(y_pred.dim() >= 1 && y_pred.shape().back() == 1 ? "binary_accuracy" : "categorical_accuracy",
                       y_true, y_pred);
  if (metric == "binary_accuracy")
    return sum(eq(gt(y_pred, full_like(y_pred, 0.5)).to(DType::f32), y_true.to(DType::f32)).to(DType::f32)).item() /
           (y_pred.numel() / std::max<std::int64_t>(y_pred.shape()[0], 1));
  if (y_pred.dim() > 2) {  // sequences (N, T, ..., C): each sample scores the mean over its steps, as in Keras
    const std::int64_t c = y_pred.shape().back(), steps = y_pred.numel() / std::max<std::int64_t>(y_pred.shape()[0] * c, 1);
    const bool sparse = metric.rfind("sparse", 0) == 0;
    Shape want = y_pred.shape();
    if (sparse) want.pop_back();
    if (y_true.shape() != want && !(sparse && y_true.dim() == y_pred.dim() && y_true.shape().back() == 1))
      fail<ShapeError>(metric, " expects targets of shape ", shape_str(want), " for predictions ",
                       shape_str(y_pred.shape()), ", got ", shape_str(y_true.shape()));
    Tensor flat_true = sparse ? y_true.reshape({-1}) : y_true.reshape({-1, c});
    return metric_hits(metric, flat_true, y_pred.reshape({-1, c})) / static_cast<double>(steps);
  }
  if (y_pred.dim() != 2)
    fail<ShapeError>(metric, " expects predictions of shape (N, classes) or (N, steps, classes), got ",
                     shape_str(y_pred.shape()));
  const bool sparse = metric.rfind("sparse", 0) == 0;
  if (!sparse && (y_true.shape() != y_pred.shape() || y_pred.shape()[1] < 2))
    fail<ShapeError>(metric, " expects one-hot targets of the predictions' shape with at least 2 classes, got "
                     "targets ", shape_str(y_true.shape()), " and predictions ", shape_str(y_pred.shape()),
                     y_pred.shape()[1] == 1 ? " (one column: use binary_accuracy)" : "");
  Tensor labels = sparse ? labels_of(y_true, y_pred, metric) : argmax(y_true.to(DType::f32), 1);
  if (metric == "categorical_accuracy" || metric == "sparse_categorical_accuracy")
    return sum(eq(argmax(y_pred, 1), labels).to(DType::f32)).item();
  return top_k_hits(labels, y_pred, 5);
}

std::pair<std::int64_t, double> predicted_class(const Tensor& probs) {
  if (probs.dim() != 2 || probs.shape()[0] != 1 || probs.shape()[1] < 1)
    fail<ShapeError>("predicted_class expects one row of class probabilities (1, C), got ", shape_str(probs.shape()));
  if (probs.shape()[1] == 1) {
    const double p = probs.to(DType::f64).item();
    return p > 0.5 ? std::pair<std::int64_t, double>{1, p} : std::pair<std::int64_t, double>{0, 1.0 - p};
  }
  const std::int64_t k = argmax(probs, 1).item<std::int64_t>();
  return {k, probs.to(DType::f64).at({0, k})};
}

Tensor confusion_matrix(const Tensor& labels, const Tensor& predictions, std::int64_t num_classes) {
  if (labels.shape() != predictions.shape() || labels.dim() != 1)
    fail<ShapeError>("confusion_matrix expects labels and predictions of one shape (N), got ",
                     shape_str(labels.shape()), " and ", shape_str(predictions.shape()));
  std::vector<std::int64_t> l = labels.to(DType::i64).to_vector<std::int64_t>();
  std::vector<std::int64_t> p = predictions.to(DType::i64).to_vector<std::int64_t>();
  std::vector<std::int64_t> counts(num_classes * num_classes, 0);
  for (std::size_t i = 0; i < l.size(); ++i) {
    if (l[i] < 0 || l[i] >= num_classes || p[i] < 0 || p[i] >= num_classes)
      fail<IndexError>("confusion_matrix expects classes in [0, ", num_classes - 1, "], got label ", l[i],
                       " and prediction ", p[i]);
    ++counts[l[i] * num_classes + p[i]];
  }
  return from_vector(counts, {num_classes, num_classes});
}

}  // namespace cortex::train
