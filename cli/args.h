// Arguments of the `cortex` subcommands: validators whose failures read
// "--epochs must be >= 1, got -1", and spelling suggestions ("did you mean").
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace cortex::cli {

// A number >= min; `whole` asks for an integer too.
CLI::Validator at_least(double min, bool whole = true);
// A number > min (learning rates).
CLI::Validator above(double min);
// A number in [lo, hi], or [lo, hi) when `open_high`; `whole` asks for an integer too.
CLI::Validator in_range(double lo, double hi, bool open_high = false, bool whole = false);
// One of `choices`, with a suggestion for a near miss.
CLI::Validator one_of(std::vector<std::string> choices);

// The choice closest to `word` by edit distance when it is a plausible typo
// (at most a third of the word's letters, and 2, wrong), else "".
std::string closest(const std::string& word, const std::vector<std::string>& choices);

// "a, b or c"
std::string join_or(const std::vector<std::string>& words);

}  // namespace cortex::cli
