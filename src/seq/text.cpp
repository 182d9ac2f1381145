// Character-level language modelling: vocabulary, stream batches, bits per
// character and sampling.
#include "cortex/seq/text.h"

#include <nlohmann/json.hpp>

#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>

#include "cortex/autograd/grad_mode.h"
#include "cortex/core/error.h"
#include "cortex/io/json_depth.h"
#include "cortex/ops/ops.h"
#include "cortex/train/model.h"

namespace cortex::seq {
namespace {

std::string byte_text(unsigned char c) {
  if (c >= 32 && c < 127) return cortex::detail::cat("'", static_cast<char>(c), "' (byte ", static_cast<int>(c), ")");
  return cortex::detail::cat("byte ", static_cast<int>(c));
}

}  // namespace

CharVocabulary CharVocabulary::of(std::string_view text) {
  if (text.empty()) fail<ValueError>("a character vocabulary needs a text with at least one character, got an empty one");
  std::array<bool, 256> seen{};
  for (char c : text) seen[static_cast<unsigned char>(c)] = true;
  CharVocabulary v;
  for (int b = 0; b < 256; ++b)
    if (seen[b]) v.chars.push_back(static_cast<char>(b));
  return v;
}

std::vector<std::int64_t> CharVocabulary::encode(std::string_view text, const std::string& what) const {
  std::array<std::int64_t, 256> id;
  id.fill(-1);
  for (std::size_t i = 0; i < chars.size(); ++i) id[static_cast<unsigned char>(chars[i])] = static_cast<std::int64_t>(i);
  std::vector<std::int64_t> out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (id[c] < 0)
      fail<ValueError>(what, " has ", byte_text(c), " at position ", i, ", which is not in the model's vocabulary of ",
                       chars.size(), " characters (it was not in the training text)");
    out.push_back(id[c]);
  }
  return out;
}

std::string CharVocabulary::decode(const std::vector<std::int64_t>& ids) const {
  std::string out;
  out.reserve(ids.size());
  for (std::int64_t i : ids) {
    if (i < 0 || i >= size()) fail<IndexError>("character id ", i, " is outside the vocabulary [0, ", size(), ")");
    out.push_back(chars[static_cast<std::size_t>(i)]);
  }
  return out;
}

std::string CharVocabulary::to_json() const {
  nlohmann::json a = nlohmann::json::array();
  for (char c : chars) a.push_back(static_cast<int>(static_cast<unsigned char>(c)));
  return a.dump();
}

CharVocabulary CharVocabulary::from_json(const std::string& json) {
  const auto a = io::parse_json<nlohmann::json>(json, 2, "a character vocabulary");
  if (!a.is_array() || a.empty())
    fail<ValueError>("a character vocabulary is a non-empty JSON array of byte values, got ", a.dump().substr(0, 80));
  CharVocabulary v;
  for (const auto& b : a) {
    if (!b.is_number_integer() || b.get<std::int64_t>() < 0 || b.get<std::int64_t>() > 255)
      fail<ValueError>("a character vocabulary holds byte values 0..255, got ", b.dump());
    const char c = static_cast<char>(b.get<int>());
    if (!v.chars.empty() && static_cast<unsigned char>(c) <= static_cast<unsigned char>(v.chars.back()))
      fail<ValueError>("a character vocabulary lists distinct bytes in increasing order, got ", b.dump(), " after ",
                       static_cast<int>(static_cast<unsigned char>(v.chars.back())));
    v.chars.push_back(c);
  }
  return v;
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail<ValueError>("cannot read the text file ", path, ": ", std::strerror(errno));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) fail<ValueError>("reading the text file ", path, " failed: ", std::strerror(errno));
  if (text.empty()) fail<ValueError>("the text file ", path, " is empty: a language model needs characters to learn from");
  return text;
}

std::string kjv_text() {
  // The whole book, Genesis 1:1 to Revelation 22:21, 80 columns whatever the terminal.
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen("bible -l80 Gen1:1-Rev22:21 2>/dev/null", "r"), pclose);
  if (!pipe) fail<Error>("cannot start `bible` for the King James Bible: ", std::strerror(errno));
  std::string text;
  std::array<char, 1 << 16> buf;
  while (std::size_t got = std::fread(buf.data(), 1, buf.size(), pipe.get())) text.append(buf.data(), got);
  const int status = pclose(pipe.release());
  if (status != 0 || text.size() < 1000000)
    fail<Error>("the King James Bible comes from Debian's bible-kjv package, whose `bible` command ",
                status != 0 ? "failed or is missing" : "wrote too little", " (apt-get install bible-kjv, or ",
                "scripts/install-deps.sh); or give a text of your own with --text FILE");
  return text;
}

StreamBatches stream_batches(const std::vector<std::int64_t>& ids, std::int64_t batch, std::int64_t steps) {
  if (batch < 1 || steps < 1) fail<ValueError>("stream_batches expects batch >= 1 and steps >= 1, got ", batch, " and ", steps);
  const auto n = static_cast<std::int64_t>(ids.size());
  // Each stream needs steps + 1 ids per window read (the target is one further on).
  const std::int64_t stream = (n - 1) / batch, batches = stream / steps;
  if (batches < 1)
    fail<ValueError>("a text of ", n, " characters is too short for one batch of ", batch, " streams of ", steps,
                     " steps (needs at least ", batch * steps + 1, ")");
  std::vector<float> x(static_cast<std::size_t>(batches * batch * steps)), y(x.size());
  for (std::int64_t b = 0; b < batches; ++b)
    for (std::int64_t j = 0; j < batch; ++j)
      for (std::int64_t t = 0; t < steps; ++t) {
        const std::int64_t src = j * stream + b * steps + t, dst = ((b * batch) + j) * steps + t;
        x[static_cast<std::size_t>(dst)] = static_cast<float>(ids[static_cast<std::size_t>(src)]);
        y[static_cast<std::size_t>(dst)] = static_cast<float>(ids[static_cast<std::size_t>(src + 1)]);
      }
  return {from_vector(x, {batches * batch, steps}), from_vector(y, {batches * batch, steps}), batches};
}

double bits_per_char(train::Model& model, const StreamBatches& data, std::int64_t batch) {
  model.reset_states();
  const train::Logs logs = model.evaluate(data.x, data.y, {.batch_size = batch});
  model.reset_states();
  return logs.at("loss") / std::log(2.0);
}

std::string sample_text(train::Model& model, const CharVocabulary& vocabulary, const std::string& prime,
                        std::int64_t length, double temperature, Generator& gen) {
  if (prime.empty()) fail<ValueError>("sampling needs a prime of at least one character to start from");
  if (!(temperature > 0.0)) fail<ValueError>("sampling expects a temperature > 0, got ", temperature);
  if (length < 0) fail<ValueError>("sampling expects a length >= 0, got ", length);
  const std::vector<std::int64_t> ids = vocabulary.encode(prime, "the prime");
  NoGradGuard no_grad;
  nn::Module& net = model.network();
  const bool was_training = net.is_training();
  net.eval();
  model.reset_states();
  std::vector<float> first(ids.begin(), ids.end());
  Tensor p = net.forward(from_vector(first, {1, static_cast<std::int64_t>(ids.size())}).to(model.device()));
  std::vector<std::int64_t> drawn;
  for (std::int64_t i = 0; i < length; ++i) {
    if (p.dim() != 3 || p.shape()[0] != 1 || p.shape()[2] != vocabulary.size())
      fail<ShapeError>("sampling expects the model to give (1, steps, ", vocabulary.size(), ") probabilities, got ",
                       shape_str(p.shape()));
    // The last step's distribution, sharpened: p^(1/T), renormalised.
    Tensor last = p.select(1, p.shape()[1] - 1).select(0, 0).to(Device::cpu()).to(DType::f64);
    Tensor w = exp(log(maximum(last, full_like(last, 1e-30))) / temperature);
    w = w / sum(w);
    const double u = rand({1}, gen, DType::f64).item();
    const auto* pw = w.data<double>();
    std::int64_t next = vocabulary.size() - 1;
    double acc = 0;
    for (std::int64_t k = 0; k < vocabulary.size(); ++k) {
      acc += pw[k];
      if (u < acc) {
        next = k;
        break;
      }
    }
    drawn.push_back(next);
    p = net.forward(full({1, 1}, static_cast<double>(next)).to(model.device()));
  }
  model.reset_states();
  net.train(was_training);
  return vocabulary.decode(drawn);
}

}  // namespace cortex::seq
