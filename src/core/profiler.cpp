// The region profiler's tables (see profiler.h).
#include "cortex/core/profiler.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>

namespace cortex::profiler {
namespace {

std::atomic<bool> on{false};

struct Totals {
  std::mutex mutex;
  std::map<std::string, Entry> by_name;
};

Totals& totals() {
  static Totals t;
  return t;
}

}  // namespace

void enable(bool value) { on.store(value, std::memory_order_relaxed); }
bool enabled() { return on.load(std::memory_order_relaxed); }

void reset() {
  std::lock_guard<std::mutex> lock(totals().mutex);
  totals().by_name.clear();
}

void add(const std::string& name, double seconds, std::int64_t calls) {
  std::lock_guard<std::mutex> lock(totals().mutex);
  Entry& e = totals().by_name[name];
  e.name = name;
  e.seconds += seconds;
  e.calls += calls;
}

std::vector<Entry> entries() {
  std::vector<Entry> out;
  {
    std::lock_guard<std::mutex> lock(totals().mutex);
    for (const auto& [name, e] : totals().by_name) out.push_back(e);
  }
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.seconds > b.seconds; });
  return out;
}

std::string table(double per, const std::string& total_name) {
  const std::vector<Entry> all = entries();
  double total = 0.0;
  for (const Entry& e : all)
    if (e.name == total_name) total = e.seconds;
  std::string out = "| region | ms per step | calls per step | share of " + total_name + " |\n| --- | --- | --- | --- |\n";
  char line[512];
  for (const Entry& e : all) {
    std::snprintf(line, sizeof line, "| %s | %.2f | %.1f | %s |\n", e.name.c_str(), 1e3 * e.seconds / per,
                  static_cast<double>(e.calls) / per,
                  total > 0 ? (std::to_string(static_cast<int>(100.0 * e.seconds / total + 0.5)) + " %").c_str() : "");
    out += line;
  }
  return out;
}

}  // namespace cortex::profiler
