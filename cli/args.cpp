// Validators and suggestions for the `cortex` command's arguments.
#include "args.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace cortex::cli {
namespace {

// "-1", "2.5" -> value; false when `text` is not a finite number.
bool parse_number(const std::string& text, double& value) {
  if (text.empty()) return false;
  char* end = nullptr;
  value = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && std::isfinite(value);
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

}  // namespace

CLI::Validator at_least(double min, bool whole) {
  const std::string kind = whole ? "a whole number" : "a number";
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        double v = 0;
        if (!parse_number(text, v)) return "must be " + kind + " >= " + number(min) + ", got '" + text + "'";
        if (whole && v != std::floor(v)) return "must be " + kind + ", got " + text;
        if (v < min) return "must be >= " + number(min) + ", got " + text;
        return "";
      },
      (whole ? "INT >= " : "NUMBER >= ") + number(min));
}

CLI::Validator above(double min) {
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        double v = 0;
        if (!parse_number(text, v)) return "must be a number > " + number(min) + ", got '" + text + "'";
        if (v <= min) return "must be > " + number(min) + ", got " + text;
        return "";
      },
      "NUMBER > " + number(min));
}

CLI::Validator in_range(double lo, double hi, bool open_high, bool whole) {
  const std::string range = "[" + number(lo) + ", " + number(hi) + (open_high ? ")" : "]");
  const std::string kind = whole ? "a whole number" : "a number";
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        double v = 0;
        if (!parse_number(text, v)) return "must be " + kind + " in " + range + ", got '" + text + "'";
        if (whole && v != std::floor(v)) return "must be " + kind + ", got " + text;
        if (v < lo || v > hi || (open_high && v == hi)) return "must be in " + range + ", got " + text;
        return "";
      },
      (whole ? "INT in " : "in ") + range);
}

CLI::Validator one_of(std::vector<std::string> choices) {
  std::string listed;
  for (const auto& c : choices) listed += (listed.empty() ? "" : "|") + c;
  return CLI::Validator(
      [choices](std::string& text) -> std::string {
        if (std::find(choices.begin(), choices.end(), text) != choices.end()) return "";
        const std::string near = closest(text, choices);
        return "must be " + join_or(choices) + ", got '" + text + "'" +
               (near.empty() ? "" : "; did you mean '" + near + "'?");
      },
      "{" + listed + "}");
}

std::string closest(const std::string& word, const std::vector<std::string>& choices) {
  std::string best;
  std::size_t best_distance = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (const auto& c : choices) {
    const std::size_t d = edit_distance(word, c);
    if (d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

std::string join_or(const std::vector<std::string>& words) {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i)
    out += (i == 0 ? "" : i + 1 == words.size() ? " or " : ", ") + words[i];
  return out;
}

}  // namespace cortex::cli
