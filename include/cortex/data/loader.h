// DataLoader: shuffled, sharded mini-batches of (x, y), gathered ahead on a worker thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>

#include "cortex/core/generator.h"
#include "cortex/core/tensor.h"

namespace cortex::data {

// x_batch: (B, ...) -> (B, ...). Runs on the loader's worker thread with a
// generator seeded from (seed, epoch, rank, batch), so it is reproducible.
using Transform = std::function<Tensor(const Tensor& x_batch, Generator& gen)>;

struct LoaderOptions {
  std::int64_t batch_size = 32;
  bool shuffle = true;
  bool drop_last = false;  // skip an epoch's last batch when it is smaller than batch_size
  std::uint64_t seed = 0;  // epoch e's order depends on (seed, e) only
  int prefetch = 2;        // batches gathered ahead on a worker thread; 0: on the caller's thread
  int rank = 0;            // data-parallel shard of this process, in [0, world_size)
  int world_size = 1;
  Transform transform = {};  // applied to each x batch (augmentation)
};

struct Batch {
  Tensor x;  // (B, ...) rows of the loader's x
  Tensor y;  // (B, ...) the matching rows of y; undefined when the loader has no y
  std::int64_t index = 0;  // the batch's position in its epoch
};

// Serves epochs of batches. Each epoch shuffles all N rows with a permutation
// that depends on (seed, epoch) only, so every rank draws the same one; rank r
// of W takes rows r, r + W, r + 2W, … of it, N / W rows in all (the last
// N mod W are skipped that epoch so every rank runs the same number of steps).
//
//   for (int e = 0; e < epochs; ++e) {
//     loader.set_epoch(e);  // optional: epochs also advance by themselves
//     for (const Batch& b : loader) step(b.x, b.y);
//   }
class DataLoader {
 public:
  // x: (N, ...), y: (N, ...) or undefined; host tensors (shared, never copied whole).
  DataLoader(Tensor x, Tensor y, LoaderOptions options = {});
  ~DataLoader();  // stops and joins the worker
  DataLoader(DataLoader&&) noexcept;
  DataLoader& operator=(DataLoader&&) noexcept;

  std::int64_t num_samples() const;  // rows this rank sees per epoch
  std::int64_t num_batches() const;  // batches per epoch
  const LoaderOptions& options() const;

  // The epoch the next batch comes from. set_epoch abandons the epoch in
  // progress; the next batch is the first of epoch `epoch`.
  std::int64_t epoch() const;
  void set_epoch(std::int64_t epoch);

  // The next batch of the current epoch; std::nullopt once it is exhausted,
  // after which the epoch counter has moved on and the next call starts a new
  // epoch. An exception thrown while gathering (in the transform, say) is
  // rethrown here after the batches before it; the epoch is then abandoned and
  // the next call starts it again.
  std::optional<Batch> next();

  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Batch;
    using difference_type = std::ptrdiff_t;
    using pointer = const Batch*;
    using reference = const Batch&;

    const Batch& operator*() const { return *current_; }
    const Batch* operator->() const { return &*current_; }
    Iterator& operator++() {
      current_ = loader_->next();
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const Iterator& it, std::default_sentinel_t) { return !it.current_; }

   private:
    friend class DataLoader;
    explicit Iterator(DataLoader* loader) : loader_(loader), current_(loader->next()) {}
    DataLoader* loader_;
    std::optional<Batch> current_;
  };

  // One pass over an epoch. A pass that starts while an epoch is partly
  // consumed (a loop left with break) moves on to the next epoch instead.
  Iterator begin();
  std::default_sentinel_t end() const { return {}; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cortex::data
