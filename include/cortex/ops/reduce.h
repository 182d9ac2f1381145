// Reductions over axes. An empty axis list means every axis.
#pragma once

#include <vector>

#include "cortex/core/tensor.h"

namespace cortex {

using Axes = std::vector<std::int64_t>;

Tensor sum(const Tensor& x, const Axes& axes = {}, bool keepdims = false);
Tensor mean(const Tensor& x, const Axes& axes = {}, bool keepdims = false);
Tensor max(const Tensor& x, const Axes& axes = {}, bool keepdims = false);  // ties share the gradient
Tensor min(const Tensor& x, const Axes& axes = {}, bool keepdims = false);
// Index (i64) of the first extreme value along one axis.
Tensor argmax(const Tensor& x, std::int64_t axis, bool keepdims = false);
Tensor argmin(const Tensor& x, std::int64_t axis, bool keepdims = false);
// Variance and standard deviation dividing by (count - correction):
// correction 0 is numpy's and Keras's default, 1 is PyTorch's unbiased estimate.
Tensor var(const Tensor& x, const Axes& axes = {}, bool keepdims = false, std::int64_t correction = 0);
Tensor std(const Tensor& x, const Axes& axes = {}, bool keepdims = false, std::int64_t correction = 0);
Tensor logsumexp(const Tensor& x, const Axes& axes = {}, bool keepdims = false);

}  // namespace cortex
