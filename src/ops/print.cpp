// numpy-like printout: nested brackets, aligned columns, long axes elided.
#include <cmath>
#include <cstdio>
#include <ostream>

#include "op_util.h"

namespace cortex {
namespace {

constexpr std::int64_t kEdge = 3;         // items shown at each end of a long axis
constexpr std::int64_t kSummarise = 1000; // elide when the tensor has more elements

struct Printer {
  const Shape& shape;
  const std::vector<double>& v;
  DType dtype;
  bool elide;
  int width = 1;
  bool scientific = false;

  std::string format(double x) const {
    char buf[64];
    if (dtype == DType::boolean) return x != 0 ? "true" : "false";
    if (!is_floating(dtype)) std::snprintf(buf, sizeof buf, "%.0f", x);
    else if (std::isnan(x)) return "nan";
    else if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
    else if (scientific) std::snprintf(buf, sizeof buf, "%.4e", x);
    else std::snprintf(buf, sizeof buf, "%.4f", x);
    return buf;
  }

  bool shown(std::int64_t i, std::int64_t n) const { return !elide || n <= 2 * kEdge || i < kEdge || i >= n - kEdge; }

  void print(std::ostream& out, std::size_t axis, std::int64_t base, int indent) const {
    if (axis == shape.size()) {
      std::string s = format(v[base]);
      out << std::string(width - static_cast<int>(s.size()), ' ') << s;
      return;
    }
    std::int64_t n = shape[axis], stride = 1;
    for (std::size_t k = axis + 1; k < shape.size(); ++k) stride *= shape[k];
    out << '[';
    bool first = true;
    for (std::int64_t i = 0; i < n; ++i) {
      if (!shown(i, n)) {
        if (i == kEdge) out << (axis + 1 == shape.size() ? ", ..." : ",\n" + std::string(indent + 1, ' ') + "...");
        continue;
      }
      if (!first) {
        if (axis + 1 == shape.size()) out << ", ";
        else out << ',' << std::string(shape.size() - axis - 1, '\n') << std::string(indent + 1, ' ');
      }
      first = false;
      print(out, axis + 1, base + i * stride, indent + 1);
    }
    out << ']';
  }
};

}  // namespace

std::string Tensor::str() const {
  if (!defined()) return "tensor(undefined)";
  std::vector<double> v = to_vector<double>();
  Printer p{shape(), v, dtype(), numel() > kSummarise};
  double big = 0, small = INFINITY;
  for (double x : v)
    if (std::isfinite(x) && x != 0) { big = std::max(big, std::fabs(x)); small = std::min(small, std::fabs(x)); }
  p.scientific = is_floating(dtype()) && (big >= 1e8 || (big > 0 && small < 1e-4));
  for (double x : v) p.width = std::max<int>(p.width, static_cast<int>(p.format(x).size()));
  std::ostringstream out;
  out << "tensor(";
  p.print(out, 0, 0, 7);
  out << ", shape=" << shape_str(shape()) << ", dtype=" << dtype_name(dtype());
  if (!device().is_cpu()) out << ", device=" << device().str();
  if (requires_grad()) out << ", requires_grad=true";
  out << ')';
  return out.str();
}

std::ostream& operator<<(std::ostream& out, const Tensor& t) { return out << t.str(); }

}  // namespace cortex
