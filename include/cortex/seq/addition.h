// Keras's addition_rnn task: "53+7" in, "60" out, one character per step.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cortex/core/tensor.h"

namespace cortex::seq {

struct AdditionOptions {
  std::int64_t samples = 50000;  // distinct questions (a+b and b+a count once)
  int digits = 3;                // each operand has 1 to `digits` digits
  bool reverse = true;           // the question is fed backwards (Keras's trick: short paths from digit to digit)
  std::uint64_t seed = 0;
};

struct AdditionData {
  Tensor x;  // (N, 2 * digits + 1, 12) one-hot questions, space-padded (reversed when asked)
  Tensor y;  // (N, digits + 1, 12) one-hot answers, space-padded
  std::vector<std::string> questions, answers;  // as written: "53+7", "60"
};

// The 12 characters of the task, in one-hot order: "0123456789+ ".
const std::string& addition_chars();

// Draws the questions as Keras's example does: each operand's length uniform
// in 1..digits, each digit uniform; duplicates (a+b after b+a too) redrawn.
// Throws ValueError for digits outside 1..9 or more samples than distinct questions.
AdditionData addition_data(const AdditionOptions& o);

// The string a (T, 12) one-hot or probability tensor spells (argmax per step).
std::string decode(const Tensor& steps);

// The fraction of samples whose every step's argmax matches: y (N, T, C).
double exact_match(const Tensor& y_true, const Tensor& y_pred);

}  // namespace cortex::seq
