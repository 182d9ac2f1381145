// Where a training step's time goes: wall-clock seconds summed by region name
// (a layer's forward, an op's backward, the optimiser, data), collected only
// while profiling is on, so the instrumented code costs one test otherwise.
//
//   profiler::enable(true);  ... train some steps ...
//   std::puts(profiler::table(steps).c_str());  // ms per step, by region
//
// Device work is asynchronous: on a GPU the times are the host's, so profile
// the CPU backend or synchronise. Regions nest (a layer's forward holds its
// ops); the table lists each region's own total, so shares of nested regions
// add up to more than 100 %.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace cortex::profiler {

void enable(bool on);
bool enabled();
void reset();

void add(const std::string& name, double seconds, std::int64_t calls = 1);

struct Entry {
  std::string name;
  double seconds = 0.0;
  std::int64_t calls = 0;
};
std::vector<Entry> entries();  // slowest first

// A markdown table: milliseconds and calls per `per` (e.g. the step count),
// and each region's share of `total_name`'s time when that region exists.
std::string table(double per = 1.0, const std::string& total_name = "step");

// Times the enclosing block under `name` when profiling is on.
class Scope {
 public:
  explicit Scope(const char* name) : name_(enabled() ? name : nullptr) {
    if (name_) start_ = std::chrono::steady_clock::now();
  }
  explicit Scope(std::string name) : owned_(enabled() ? std::move(name) : std::string()), name_(nullptr) {
    if (!owned_.empty()) start_ = std::chrono::steady_clock::now();
  }
  ~Scope() {
    if (!name_ && owned_.empty()) return;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    add(name_ ? std::string(name_) : owned_, s);
  }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  std::string owned_;
  const char* name_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace cortex::profiler
