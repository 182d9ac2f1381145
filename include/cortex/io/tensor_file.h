// Tensor files in the safetensors layout, so any safetensors reader can load them:
// an 8-byte little-endian header length N, N bytes of JSON header (padded with spaces
// to a multiple of 8) naming each tensor's dtype, shape and byte range, then the data.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "cortex/core/tensor.h"

namespace cortex::io {

// Writes `tensors` in the given order, with `metadata` as the header's "__metadata__"
// (omitted when empty), atomically (see write_atomically). Non-contiguous tensors are
// stored row-major; every tensor must be on the CPU. dtypes are stored as F32, F64,
// BF16, I32, I64, U8 and BOOL.
void save_tensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                  const std::map<std::string, std::string>& metadata = {});

struct TensorFile {
  std::vector<std::pair<std::string, Tensor>> tensors;  // in the order of their data
  std::map<std::string, std::string> metadata;
};

// Reads and validates a whole file; anything malformed (short file, absurd header
// length, bad JSON, unknown dtype, sizes that disagree, offsets out of range,
// overlapping or leaving gaps, trailing bytes, BOOL bytes other than 0/1) is a
// cortex::Error naming the file, what was expected and what was found.
TensorFile load_tensors(const std::string& path);

}  // namespace cortex::io
