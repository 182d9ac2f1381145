// How deep a parsed JSON value nests, checked without recursing past a bound: a
// header nested a million levels deep parses fine (nlohmann's parser keeps its own
// stack) but would overflow the call stack in dump() or any recursive walk.
#pragma once

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

}  // namespace cortex::io
