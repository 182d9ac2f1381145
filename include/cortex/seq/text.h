// Character-level language modelling: a text's vocabulary, the batches of
// stateful truncated backpropagation through time, held-out bits per
// character, and sampling. The King James Bible comes from Debian's bible-kjv.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cortex/core/generator.h"
#include "cortex/core/tensor.h"

namespace cortex::train {
class Model;
}

namespace cortex::seq {

// The distinct bytes of a text, sorted: id i stands for chars[i].
struct CharVocabulary {
  std::string chars;

  // ValueError for an empty text.
  static CharVocabulary of(std::string_view text);
  std::int64_t size() const { return static_cast<std::int64_t>(chars.size()); }
  // The ids of `text`; a byte outside the vocabulary is a ValueError that
  // names it, its position and `what` ("the prime").
  std::vector<std::int64_t> encode(std::string_view text, const std::string& what) const;
  std::string decode(const std::vector<std::int64_t>& ids) const;
  // A JSON array of the byte values (any byte survives), and back; from_json
  // names what is wrong with a bad one.
  std::string to_json() const;
  static CharVocabulary from_json(const std::string& json);
};

// A whole file as bytes; a missing, unreadable or empty file is a ValueError naming it.
std::string read_text_file(const std::string& path);

// The King James Bible as Debian's bible-kjv package writes it (its `bible`
// command, lines of 80 columns), about 4.3 MB. An Error naming the package
// when it is not installed.
std::string kjv_text();

// Batches for a stateful recurrent model: `ids` cut into `batch` streams of
// equal length, each read `steps` ids at a time. Row b * batch + j of x holds
// stream j's b-th window and the same row of y the ids one further on, so that
// batch b + 1 continues batch b row by row (fit with shuffle off and this
// batch size). Ids are f32 (an Embedding takes them). ValueError when the
// text is too short for one batch.
struct StreamBatches {
  Tensor x, y;               // (batches * batch, steps)
  std::int64_t batches = 0;  // per epoch
};
StreamBatches stream_batches(const std::vector<std::int64_t>& ids, std::int64_t batch, std::int64_t steps);

// The model's mean cross-entropy on `data` in bits per character, states
// reset before and after (read in order, `batch` rows at a time).
double bits_per_char(train::Model& model, const StreamBatches& data, std::int64_t batch);

// Continues `prime` by `length` characters drawn from the model's next-character
// distribution sharpened by 1 / temperature (temperature > 0; small values
// approach the most likely character). The model maps ids (1, T) to
// probabilities (1, T, vocabulary) and carries its state (stateful recurrent
// layers). Returns the drawn characters; ValueError for an empty prime, a
// prime byte outside the vocabulary, or a temperature <= 0.
std::string sample_text(train::Model& model, const CharVocabulary& vocabulary, const std::string& prime,
                        std::int64_t length, double temperature, Generator& gen);

}  // namespace cortex::seq
