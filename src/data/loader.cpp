// DataLoader: each epoch a seeded permutation, sharded by rank, cut into batches
// that a worker thread gathers (and transforms) a few steps ahead of the consumer.
#include "cortex/data/loader.h"

#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <numeric>
#include <thread>
#include <vector>

namespace cortex::data {
namespace {

// SplitMix64 finaliser: turns (seed, epoch, …) into independent Philox keys.
std::uint64_t mix(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

std::uint64_t derive_seed(std::initializer_list<std::uint64_t> parts) {
  std::uint64_t h = 0;
  for (std::uint64_t p : parts) h = mix(h ^ p);
  return h;
}

enum Stream : std::uint64_t { kShuffle = 1, kTransform = 2 };

// t: (N, ...) contiguous host -> (hi - lo, ...) holding rows order[lo..hi).
Tensor gather_rows(const Tensor& t, const std::vector<std::int64_t>& order, std::int64_t lo, std::int64_t hi) {
  Shape shape = t.shape();
  std::size_t row_bytes = element_size(t.dtype()) * static_cast<std::size_t>(shape[0] ? t.numel() / shape[0] : 0);
  shape[0] = hi - lo;
  Tensor out = Tensor::empty(shape, t.dtype());
  const char* src = static_cast<const char*>(t.raw_data());
  char* dst = static_cast<char*>(out.raw_data());
  for (std::int64_t i = lo; i < hi; ++i)
    std::memcpy(dst + (i - lo) * row_bytes, src + order[i] * row_bytes, row_bytes);
  return out;
}

// A host tensor the worker may read with raw memcpy: contiguous, no autograd.
Tensor host_rows(const Tensor& t, const char* what) {
  if (!t.device().is_cpu())
    fail<DeviceError>("DataLoader expects ", what, " on the cpu, got ", t.device().str(),
                      " (batches are moved to the device by the training loop)");
  if (t.dim() < 1) fail<ShapeError>("DataLoader expects ", what, " of rank >= 1 (N, ...), got a scalar");
  return t.detach().contiguous();
}

// One epoch's pass: this rank's rows in serving order and the worker gathering them.
struct Pass {
  std::vector<std::int64_t> order;
  std::int64_t epoch = 0;
  std::int64_t num_batches = 0;
  std::int64_t served = 0;

  std::mutex mutex;
  std::condition_variable cv;
  std::deque<Batch> ready;  // gathered batches, in order
  std::exception_ptr error;
  bool stop = false;
  std::thread worker;

  ~Pass() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stop = true;
    }
    cv.notify_all();
    if (worker.joinable()) worker.join();
  }
};

}  // namespace

// Batches of options.batch_size in n rows (no overflow for a batch size near 2^63).
static std::int64_t batch_count(std::int64_t n, const LoaderOptions& options) {
  const std::int64_t bs = options.batch_size;
  return n / bs + (!options.drop_last && n % bs != 0 ? 1 : 0);
}

struct DataLoader::Impl {
  Tensor x, y;  // (N, ...) contiguous host tensors
  LoaderOptions options;
  std::int64_t per_rank = 0;
  std::int64_t epoch = 0;
  std::unique_ptr<Pass> pass;  // the epoch in progress; declared last, so joined first

  Batch make_batch(const Pass& p, std::int64_t b) const {
    const std::int64_t rows = static_cast<std::int64_t>(p.order.size());
    const std::int64_t lo = b * options.batch_size;  // b < num_batches, so lo < rows
    const std::int64_t hi = lo + std::min(options.batch_size, rows - lo);
    Batch batch{gather_rows(x, p.order, lo, hi), y.defined() ? gather_rows(y, p.order, lo, hi) : Tensor(), b};
    if (options.transform) {
      Generator gen(derive_seed({options.seed, static_cast<std::uint64_t>(p.epoch), kTransform,
                                 static_cast<std::uint64_t>(options.rank), static_cast<std::uint64_t>(b)}));
      Tensor out = options.transform(batch.x, gen);
      if (!out.defined() || out.dim() < 1 || out.size(0) != hi - lo)
        fail<ShapeError>("DataLoader transform must return a batch of ", hi - lo, " rows, got ",
                         out.defined() ? shape_str(out.shape()) : std::string("an undefined tensor"));
      batch.x = out;
    }
    return batch;
  }

  void work(Pass& p) const {
    for (std::int64_t b = 0; b < p.num_batches; ++b) {
      {
        std::unique_lock<std::mutex> lock(p.mutex);
        p.cv.wait(lock, [&] { return p.stop || static_cast<int>(p.ready.size()) < options.prefetch; });
        if (p.stop) return;
      }
      try {
        Batch batch = make_batch(p, b);
        std::lock_guard<std::mutex> lock(p.mutex);
        p.ready.push_back(std::move(batch));
      } catch (...) {
        std::lock_guard<std::mutex> lock(p.mutex);
        p.error = std::current_exception();
        p.stop = true;
      }
      p.cv.notify_all();
      if (p.error) return;
    }
  }

  void start() {
    std::int64_t n = x.size(0);
    std::vector<std::int64_t> perm(static_cast<std::size_t>(n));
    std::iota(perm.begin(), perm.end(), std::int64_t{0});
    if (options.shuffle) {  // Fisher-Yates; the same on every rank
      Generator gen(derive_seed({options.seed, static_cast<std::uint64_t>(epoch), kShuffle}));
      for (std::int64_t i = n - 1; i > 0; --i)
        std::swap(perm[i], perm[gen.next_below(static_cast<std::uint64_t>(i + 1))]);
    }
    pass = std::make_unique<Pass>();
    pass->epoch = epoch;
    pass->order.resize(static_cast<std::size_t>(per_rank));
    for (std::int64_t k = 0; k < per_rank; ++k) pass->order[k] = perm[options.rank + k * options.world_size];
    pass->num_batches = batch_count(per_rank, options);
    if (options.prefetch > 0 && pass->num_batches > 0) pass->worker = std::thread([this, p = pass.get()] { work(*p); });
  }
};

DataLoader::DataLoader(Tensor x, Tensor y, LoaderOptions options) : impl_(std::make_unique<Impl>()) {
  const LoaderOptions& o = options;
  if (o.batch_size < 1) fail<ValueError>("DataLoader expects batch_size >= 1, got ", o.batch_size);
  if (o.prefetch < 0) fail<ValueError>("DataLoader expects prefetch >= 0, got ", o.prefetch);
  if (o.world_size < 1 || o.rank < 0 || o.rank >= o.world_size)
    fail<ValueError>("DataLoader expects 0 <= rank < world_size, got rank ", o.rank, " of world_size ",
                     o.world_size);
  if (!x.defined()) fail<ValueError>("DataLoader expects an x tensor, got an undefined tensor");
  impl_->x = host_rows(x, "x");
  if (y.defined()) {
    impl_->y = host_rows(y, "y");
    if (impl_->y.size(0) != impl_->x.size(0))
      fail<ShapeError>("DataLoader expects as many rows in y as in x, got x ", shape_str(x.shape()), " and y ",
                       shape_str(y.shape()));
  }
  impl_->per_rank = impl_->x.size(0) / o.world_size;
  impl_->options = std::move(options);
}

DataLoader::~DataLoader() = default;
DataLoader::DataLoader(DataLoader&&) noexcept = default;
DataLoader& DataLoader::operator=(DataLoader&&) noexcept = default;

std::int64_t DataLoader::num_samples() const {
  return impl_->options.drop_last ? num_batches() * impl_->options.batch_size : impl_->per_rank;
}

std::int64_t DataLoader::num_batches() const {
  return batch_count(impl_->per_rank, impl_->options);
}

const LoaderOptions& DataLoader::options() const { return impl_->options; }
std::int64_t DataLoader::epoch() const { return impl_->epoch; }

void DataLoader::set_epoch(std::int64_t epoch) {
  if (epoch < 0) fail<ValueError>("DataLoader::set_epoch expects an epoch >= 0, got ", epoch);
  impl_->pass.reset();
  impl_->epoch = epoch;
}

std::optional<Batch> DataLoader::next() {
  Impl& s = *impl_;
  if (!s.pass) s.start();
  Pass& p = *s.pass;
  if (p.served == p.num_batches) {
    s.pass.reset();
    ++s.epoch;
    return std::nullopt;
  }
  Batch batch;
  if (!p.worker.joinable()) {
    try {
      batch = s.make_batch(p, p.served);
    } catch (...) {
      s.pass.reset();
      throw;
    }
  } else {
    std::unique_lock<std::mutex> lock(p.mutex);
    p.cv.wait(lock, [&] { return !p.ready.empty() || p.error; });
    if (p.ready.empty()) {
      std::exception_ptr error = p.error;
      lock.unlock();
      s.pass.reset();
      std::rethrow_exception(error);
    }
    batch = std::move(p.ready.front());
    p.ready.pop_front();
    lock.unlock();
    p.cv.notify_all();
  }
  ++p.served;
  return batch;
}

DataLoader::Iterator DataLoader::begin() {
  if (impl_->pass && impl_->pass->served > 0) {
    impl_->pass.reset();
    ++impl_->epoch;
  }
  return Iterator(this);
}

}  // namespace cortex::data
