// Charts as SVG text: training curves (one panel per quantity) and heat maps.
#include "cortex/viz/chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>

#include "cortex/viz/picture.h"
#include "checks.h"

namespace cortex::viz {
namespace {

std::string num(double v, int precision = 4) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*g", precision, std::abs(v) < 1e-12 ? 0.0 : v);
  return buf;
}

std::string svg_open(double width, double height, const std::string& title) {
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(width, 6) + "\" height=\"" + num(height, 6) +
         "\" viewBox=\"0 0 " + num(width, 6) + " " + num(height, 6) +
         "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"12\">\n<title>" +
         escape_xml(title) + "</title>\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
}

std::string text(double x, double y, const std::string& s, const std::string& attrs = "") {
  return "<text x=\"" + num(x, 6) + "\" y=\"" + num(y, 6) + "\" " + attrs + ">" + escape_xml(s) + "</text>\n";
}

std::string line(double x1, double y1, double x2, double y2, const std::string& attrs) {
  return "<line x1=\"" + num(x1, 6) + "\" y1=\"" + num(y1, 6) + "\" x2=\"" + num(x2, 6) + "\" y2=\"" + num(y2, 6) +
         "\" " + attrs + "/>\n";
}

// Gives a (near) empty range [lo, hi] room around its value.
void widen(double& lo, double& hi) {
  const double room = 1e-9 * std::max(1.0, std::max(std::abs(lo), std::abs(hi)));
  if (hi - lo < room) {
    const double pad = std::max(0.5, 0.05 * std::abs(lo));
    lo -= pad, hi += pad;
  }
}

const char* const kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"};

// One panel: axes with ticks and labels, a polyline per series, a legend.
std::string panel(double x0, double y0, double width, double height, const std::string& title,
                  const std::string& x_label, const std::string& y_label, const std::vector<ChartSeries>& series,
                  bool integer_x) {
  const double left = x0 + 64, right = x0 + width - 16, top = y0 + 34, bottom = y0 + height - 64;
  double lo = INFINITY, hi = -INFINITY, x_lo = INFINITY, x_hi = -INFINITY;
  for (const auto& s : series) {
    if (s.x.size() != s.y.size())
      fail<ValueError>("chart series '", s.label, "' has ", s.x.size(), " x values and ", s.y.size(), " y values");
    for (std::size_t i = 0; i < s.y.size(); ++i) {
      if (!std::isfinite(s.y[i]) || !std::isfinite(s.x[i])) continue;
      lo = std::min(lo, s.y[i]), hi = std::max(hi, s.y[i]);
      x_lo = std::min(x_lo, s.x[i]), x_hi = std::max(x_hi, s.x[i]);
    }
  }
  if (!std::isfinite(lo)) lo = 0, hi = 1, x_lo = 0, x_hi = 1;
  widen(lo, hi);
  widen(x_lo, x_hi);
  const std::vector<double> yt = nice_ticks(lo, hi);
  lo = std::min(lo, yt.front());
  hi = std::max(hi, yt.back());
  auto X = [&](double v) { return left + (v - x_lo) / (x_hi - x_lo) * (right - left); };
  auto Y = [&](double v) { return bottom - (v - lo) / (hi - lo) * (bottom - top); };

  std::string out = "<g class=\"panel\">\n";
  out += text((left + right) / 2, y0 + 20, title, "text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\"");
  for (double t : yt) {
    out += line(left, Y(t), right, Y(t), "stroke=\"#e5e5e5\"");
    out += text(left - 6, Y(t) + 4, num(t), "text-anchor=\"end\"");
  }
  for (double t : nice_ticks(x_lo, x_hi, 8)) {
    if ((integer_x && t != std::floor(t)) || t < x_lo - 1e-9 || t > x_hi + 1e-9) continue;
    out += line(X(t), bottom, X(t), bottom + 4, "stroke=\"black\"");
    out += text(X(t), bottom + 17, num(t), "text-anchor=\"middle\"");
  }
  out += line(left, bottom, right, bottom, "stroke=\"black\"");
  out += line(left, top, left, bottom, "stroke=\"black\"");
  out += text((left + right) / 2, bottom + 34, x_label, "text-anchor=\"middle\"");
  const double mid = (top + bottom) / 2, lx = x0 + 14;
  out += text(lx, mid, y_label, "text-anchor=\"middle\" transform=\"rotate(-90 " + num(lx, 6) + " " + num(mid, 6) + ")\"");

  // The legend runs along the bottom, clear of the curves.
  double legend_x = left;
  const double legend_y = bottom + 52;
  std::size_t next_colour = 0;
  for (const auto& s : series) {
    const std::string colour = escape_xml(s.colour.empty() ? kPalette[next_colour++ % std::size(kPalette)] : s.colour);
    std::string points, dots;
    for (std::size_t i = 0; i < s.y.size(); ++i) {
      if (!std::isfinite(s.y[i]) || !std::isfinite(s.x[i])) continue;
      points += num(X(s.x[i]), 6) + "," + num(Y(s.y[i]), 6) + " ";
      dots += "<circle cx=\"" + num(X(s.x[i]), 6) + "\" cy=\"" + num(Y(s.y[i]), 6) + "\" r=\"2.5\" fill=\"" + colour +
              "\"/>\n";
    }
    const std::string dash = s.dashed ? " stroke-dasharray=\"6 4\"" : "";
    out += "<polyline fill=\"none\" stroke=\"" + colour + "\" stroke-width=\"2\"" + dash + " points=\"" + points +
           "\"><title>" + escape_xml(s.label) + "</title></polyline>\n" + dots;
    out += line(legend_x, legend_y, legend_x + 24, legend_y, "stroke=\"" + colour + "\" stroke-width=\"2\"" + dash);
    out += text(legend_x + 30, legend_y + 4, s.label);
    legend_x += 44 + 7.0 * static_cast<double>(s.label.size());
  }
  return out + "</g>\n";
}

}  // namespace

std::string escape_xml(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        // Control characters are not allowed in XML 1.0: a name carrying one would break the picture.
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\t' || c == '\n' || c == '\r') out += c;
    }
  }
  return out;
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!std::isfinite(lo) || !std::isfinite(hi) || hi < lo || !std::isfinite(hi - lo))
    fail<ValueError>("nice_ticks expects a finite range lo <= hi, got [", lo, ", ", hi, "]");
  if (hi == lo) return {lo};
  const double raw = (hi - lo) / std::max(1, target);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * magnitude;
    if (step >= raw) break;
  }
  // Ticks k * step by whole k, so that rounding can neither stall nor run on.
  const double first = std::floor(lo / step), last = std::ceil(hi / step);
  // Past 2^52 whole numbers are no longer one apart in a double: the step is lost in rounding.
  if (std::abs(first) > 0x1p52 || std::abs(last) > 0x1p52 || !(last - first <= 4.0 * std::max(1, target) + 4.0))
    return {lo, hi};
  std::vector<double> ticks;
  const auto count = static_cast<std::int64_t>(last - first);
  for (std::int64_t k = 0; k <= count; ++k) ticks.push_back((first + static_cast<double>(k)) * step);
  return ticks;
}

std::string curves_svg(const std::vector<int>& epochs, const std::map<std::string, std::vector<double>>& logs,
                       const std::string& title) {
  if (epochs.empty()) fail<ValueError>("curves_svg expects at least one epoch");
  for (const auto& [name, values] : logs)
    if (values.size() != epochs.size())
      fail<ValueError>("curves_svg: '", name, "' has ", values.size(), " values for ", epochs.size(), " epochs");
  // A panel per quantity: "loss" with "val_loss"; a lone "val_x" gets its own.
  std::vector<std::string> quantities;
  for (const auto& [name, values] : logs) {
    std::string base = name.rfind("val_", 0) == 0 ? name.substr(4) : name;
    if (std::find(quantities.begin(), quantities.end(), base) == quantities.end()) quantities.push_back(base);
  }
  if (quantities.empty()) fail<ValueError>("curves_svg expects at least one series");
  // Loss first, then the rest alphabetically (the map's order).
  std::stable_partition(quantities.begin(), quantities.end(), [](const std::string& q) { return q == "loss"; });
  std::vector<double> x;
  for (int e : epochs) x.push_back(e + 1.0);
  const double pw = 440, ph = 300;
  std::string out = svg_open(pw * static_cast<double>(quantities.size()), ph + 30, title);
  out += text(10, 20, title, "font-size=\"15\" font-weight=\"bold\"");
  for (std::size_t q = 0; q < quantities.size(); ++q) {
    std::vector<ChartSeries> series;
    if (auto it = logs.find(quantities[q]); it != logs.end())
      series.push_back({.label = "training", .x = x, .y = it->second, .colour = kPalette[0]});
    if (auto it = logs.find("val_" + quantities[q]); it != logs.end())
      series.push_back({.label = "validation", .x = x, .y = it->second, .dashed = true, .colour = kPalette[1]});
    out += panel(pw * static_cast<double>(q), 30, pw, ph, quantities[q], "epoch", quantities[q], series, true);
  }
  return out + "</svg>\n";
}

std::string line_chart_svg(const std::vector<ChartSeries>& series, const std::string& x_label,
                           const std::string& y_label, const std::string& title) {
  if (series.empty()) fail<ValueError>("line_chart_svg expects at least one series");
  const double width = 560, height = 360;
  return svg_open(width, height, title) + panel(0, 0, width, height, title, x_label, y_label, series, false) +
         "</svg>\n";
}

std::string confusion_svg(const Tensor& counts, const std::vector<std::string>& names, const std::string& title) {
  if (!counts.defined() || counts.dim() != 2 || counts.size(0) != counts.size(1) || counts.size(0) == 0)
    fail<ShapeError>("confusion_svg expects a square (K, K) count matrix, got ", shape_or_undefined(counts));
  const std::int64_t k = counts.size(0);
  if (static_cast<std::int64_t>(names.size()) != k)
    fail<ValueError>("confusion_svg expects ", k, " class names, got ", names.size());
  std::vector<double> c = counts.to(Device::cpu()).to(DType::f64).contiguous().to_vector<double>();
  std::size_t longest = 0;
  for (const auto& n : names) longest = std::max(longest, n.size());
  const double cell = 46, label = 14 + 7.0 * static_cast<double>(longest);
  const double left = label + 30, top = 60, size = cell * static_cast<double>(k);
  std::string out = svg_open(left + size + 20, top + size + label + 40, title);
  out += text(10, 22, title, "font-size=\"15\" font-weight=\"bold\"");
  out += text(left + size / 2, 46, "predicted", "text-anchor=\"middle\" font-weight=\"bold\"");
  out += text(16, top + size / 2, "true", "text-anchor=\"middle\" font-weight=\"bold\" transform=\"rotate(-90 16 " +
                                             num(top + size / 2, 6) + ")\"");
  for (std::int64_t i = 0; i < k; ++i) {
    double row = 0;
    for (std::int64_t j = 0; j < k; ++j) row += c[i * k + j];
    for (std::int64_t j = 0; j < k; ++j) {
      const double share = row > 0 ? c[i * k + j] / row : 0;
      const Rgb rgb = viridis(share);
      const double x = left + cell * static_cast<double>(j), y = top + cell * static_cast<double>(i);
      char fill[8];
      std::snprintf(fill, sizeof fill, "#%02x%02x%02x", rgb.r, rgb.g, rgb.b);
      out += "<rect x=\"" + num(x, 6) + "\" y=\"" + num(y, 6) + "\" width=\"" + num(cell, 6) + "\" height=\"" +
             num(cell, 6) + "\" fill=\"" + fill + "\"><title>" + escape_xml(names[i] + " as " + names[j]) + ": " +
             num(c[i * k + j], 10) + "</title></rect>\n";
      out += text(x + cell / 2, y + cell / 2 + 4, num(c[i * k + j], 10),
                  std::string("text-anchor=\"middle\" font-size=\"11\" fill=\"") + (share > 0.5 ? "black" : "white") + "\"");
    }
    out += text(left - 6, top + cell * (static_cast<double>(i) + 0.5) + 4, names[i], "text-anchor=\"end\"");
    const double cx = left + cell * (static_cast<double>(i) + 0.5), cy = top + size + 8;
    out += text(cx, cy, names[i],
                "text-anchor=\"end\" transform=\"rotate(-45 " + num(cx, 6) + " " + num(cy, 6) + ")\"");
  }
  return out + "</svg>\n";
}

}  // namespace cortex::viz
