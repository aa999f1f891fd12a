// Inline SVG charts for the HTML report: step/line charts over time, stacked
// bar charts and a log-log roofline. Plain strings, no scripts, no external
// references; every number is printed at fixed precision so the same data
// gives the same bytes.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace npusim {

// Text safe inside HTML/SVG elements and attribute values.
std::string html_escape(const std::string& text);

struct LineSeries {
  std::string name;
  std::string color;                              // CSS color
  std::vector<std::pair<double, double>> points;  // (x, y), x ascending
};

// y from 0 up to a round number at or above the largest value; x from 0 to x_max.
struct LineChartSpec {
  std::string id;  // the <svg> id
  std::string title;
  std::string x_label;  // with the unit: "time (us)"
  std::string y_label;  // with the unit: "bandwidth (GB/s)"
  double x_max = 0;
  double y_max = 0;  // 0: from the data
  std::vector<LineSeries> series;
};
std::string line_chart_svg(const LineChartSpec& spec);

// One bar per item, its parts stacked bottom up in part order.
struct BarChartSpec {
  std::string id;
  std::string title;
  std::string y_label;  // with the unit
  std::vector<std::string> part_names;
  std::vector<std::string> part_colors;
  std::vector<std::string> item_labels;
  std::vector<std::vector<double>> item_parts;  // [item][part], >= 0
  int value_decimals = 2;                       // of the tooltips and value labels
};
std::string bar_chart_svg(const BarChartSpec& spec);

struct RooflinePoint {
  std::string label;
  double macs_per_dram_byte = 0;  // <= 0 or infinite: no DRAM traffic, drawn at the right edge
  double gmac_per_s = 0;
};

// Achieved GMAC/s against arithmetic intensity, both log scale, under the roof
// min(peak_gmac_per_s, peak_dram_gbps x intensity). One <circle> per point.
struct RooflineSpec {
  std::string id;
  std::string title;
  double peak_gmac_per_s = 0;
  double peak_dram_gbps = 0;
  std::vector<RooflinePoint> points;
};
std::string roofline_svg(const RooflineSpec& spec);

// A chart that cannot be drawn: a framed box with the reason, same id.
std::string placeholder_svg(const std::string& id, const std::string& title, const std::string& reason);

}  // namespace npusim
