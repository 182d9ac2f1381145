// Charts drawn as SVG text with axes, ticks, labels and legends: training
// curves and heat maps (the confusion matrix). No dependency but the standard library.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cortex/core/tensor.h"

namespace cortex::viz {

// One line of a chart: points (x[i], y[i]); non-finite y values are skipped.
struct ChartSeries {
  std::string label;
  std::vector<double> x, y;
  bool dashed = false;
  std::string colour = "";  // "" takes the palette's next colour
};

// A line chart with axes, ticks, axis labels and a legend.
std::string line_chart_svg(const std::vector<ChartSeries>& series, const std::string& x_label,
                           const std::string& y_label, const std::string& title);

// Training curves from per-epoch logs, as fit's History holds them: one panel
// per quantity ("loss", "accuracy", ...), the training series solid and its
// "val_" twin dashed. `epochs` are 0-based as History and CSVLogger count
// them and are drawn from 1. `logs` maps names to one value per entry of
// `epochs`; a length mismatch is a ValueError.
std::string curves_svg(const std::vector<int>& epochs, const std::map<std::string, std::vector<double>>& logs,
                       const std::string& title = "Training curves");

// counts: (K, K) integers, counts[i, j] = samples of class i predicted as j ->
// an SVG heat map, each cell shaded by its share of its row and labelled
// with its count; `names` (K of them) label rows and columns.
std::string confusion_svg(const Tensor& counts, const std::vector<std::string>& names,
                          const std::string& title = "Confusion matrix");

// Ticks for an axis over [lo, hi]: about `target` values at 1, 2 or 5 times a power of ten.
std::vector<double> nice_ticks(double lo, double hi, int target = 5);

// Text made safe for SVG and HTML (& < > " ').
std::string escape_xml(const std::string& text);

}  // namespace cortex::viz
