// The addition task's data, and reading its answers back.
#include "cortex/seq/addition.h"

#include <set>

#include "cortex/core/error.h"
#include "cortex/core/generator.h"
#include "cortex/ops/ops.h"

namespace cortex::seq {
namespace {

Tensor one_hot_strings(const std::vector<std::string>& texts, std::int64_t len) {
  const std::string& chars = addition_chars();
  std::vector<std::int64_t> ids;
  ids.reserve(texts.size() * len);
  for (const auto& t : texts)
    for (char c : t) ids.push_back(static_cast<std::int64_t>(chars.find(c)));
  return one_hot(from_vector(ids, {static_cast<std::int64_t>(texts.size()), len}), static_cast<std::int64_t>(chars.size()));
}

std::string padded(std::string s, std::size_t len) { return s + std::string(len - s.size(), ' '); }

}  // namespace

const std::string& addition_chars() {
  static const std::string chars = "0123456789+ ";
  return chars;
}

AdditionData addition_data(const AdditionOptions& o) {
  if (o.digits < 1 || o.digits > 9) fail<ValueError>("the addition task expects 1 to 9 digits, got ", o.digits);
  std::int64_t top = 1;
  for (int i = 0; i < o.digits; ++i) top *= 10;
  const std::int64_t distinct = top * (top + 1) / 2;  // unordered pairs of numbers below 10^digits
  if (o.samples < 1 || o.samples > distinct / 2)
    fail<ValueError>("the addition task with ", o.digits, " digits expects 1 to ", distinct / 2,
                     " samples (half the distinct questions, so that drawing stays quick), got ", o.samples);
  Generator gen(o.seed);
  // Uniform draws in bulk: one for each operand's length and up to `digits` for its digits.
  const std::int64_t per = 2 * (1 + o.digits);
  std::vector<double> u;
  std::size_t next = 0;
  auto draw = [&]() {
    if (next == u.size()) {
      u = rand({4096 * per}, gen, DType::f64).to_vector<double>();
      next = 0;
    }
    return u[next++];
  };
  auto number = [&]() {
    const int len = 1 + static_cast<int>(draw() * o.digits);
    std::int64_t v = 0;
    for (int i = 0; i < len; ++i) v = v * 10 + static_cast<std::int64_t>(draw() * 10);
    return v;
  };
  AdditionData d;
  std::set<std::pair<std::int64_t, std::int64_t>> seen;
  const std::size_t q_len = 2 * o.digits + 1, a_len = o.digits + 1;
  std::vector<std::string> q_in, a_out;
  while (static_cast<std::int64_t>(d.questions.size()) < o.samples) {
    std::int64_t a = number(), b = number();
    if (!seen.insert({std::min(a, b), std::max(a, b)}).second) continue;
    std::string q = std::to_string(a) + "+" + std::to_string(b), ans = std::to_string(a + b);
    d.questions.push_back(q);
    d.answers.push_back(ans);
    std::string fed = padded(q, q_len);
    if (o.reverse) fed = std::string(fed.rbegin(), fed.rend());
    q_in.push_back(fed);
    a_out.push_back(padded(ans, a_len));
  }
  d.x = one_hot_strings(q_in, static_cast<std::int64_t>(q_len));
  d.y = one_hot_strings(a_out, static_cast<std::int64_t>(a_len));
  return d;
}

std::string decode(const Tensor& steps) {
  if (steps.dim() != 2 || steps.shape()[1] != static_cast<std::int64_t>(addition_chars().size()))
    fail<ShapeError>("decode expects (steps, ", addition_chars().size(), "), got ", shape_str(steps.shape()));
  std::string out;
  for (std::int64_t k : argmax(steps, 1).to_vector<std::int64_t>()) out += addition_chars()[k];
  return out;
}

double exact_match(const Tensor& y_true, const Tensor& y_pred) {
  if (y_true.shape() != y_pred.shape() || y_true.dim() != 3)
    fail<ShapeError>("exact_match expects targets and predictions of one shape (N, T, C), got ",
                     shape_str(y_true.shape()), " and ", shape_str(y_pred.shape()));
  Tensor right = eq(argmax(y_true, 2), argmax(y_pred, 2)).to(DType::f32);  // (N, T)
  Tensor whole = eq(sum(right, {1}), full({y_true.shape()[0]}, static_cast<double>(y_true.shape()[1])));
  return sum(whole.to(DType::f32)).item() / static_cast<double>(y_true.shape()[0]);
}

}  // namespace cortex::seq
