// JSON from files and configs, parsed with a bound on its depth: a value nested a
// million levels deep parses fine (nlohmann's parser keeps its own stack) but would
// overflow the call stack in dump() or any recursive walk.
#pragma once

#include <string>

#include "cortex/core/error.h"

namespace cortex::io {

// True when `value` (an nlohmann::json or ordered_json) holds arrays and objects at
// most `levels` deep: a scalar is 0 deep, [1] 1 deep, [[1]] 2.
template <typename Json>
bool nested_within(const Json& value, int levels) {
  if (!value.is_structured()) return true;
  if (levels == 0) return false;
  for (const auto& v : value)
    if (!nested_within(v, levels - 1)) return false;
  return true;
}

// `text` parsed as a Json (nlohmann::json or ordered_json; include nlohmann where
// this is called), or a ValueError: "<what> is not valid JSON (...)", or
// "<what> nests deeper than <levels> levels".
template <typename Json>
Json parse_json(const std::string& text, int levels, const std::string& what) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) fail<ValueError>(what, " is not valid JSON");
  if (!nested_within(j, levels)) fail<ValueError>(what, " nests deeper than ", levels, " levels");
  return j;
}

}  // namespace cortex::io
