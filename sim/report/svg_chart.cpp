#include "sim/report/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "sim/report/text_table.h"

namespace npusim {
namespace {

constexpr int kWidth = 900;
constexpr int kHeight = 320;
constexpr int kLeft = 80, kRight = 170, kTop = 34, kBottom = 56;  // legend sits on the right
constexpr double kPlotWidth = kWidth - kLeft - kRight;
constexpr double kPlotHeight = kHeight - kTop - kBottom;

std::string num(double value) { return fixed(value, 1); }

// A short label of an axis value: no trailing zeros, exponent for the extremes.
std::string tick_text(double value) {
  if (value == 0) return "0";
  const double magnitude = std::fabs(value);
  if (magnitude >= 1e6 || magnitude < 1e-3) {
    const int exponent = static_cast<int>(std::floor(std::log10(magnitude) + 1e-9));
    const double mantissa = value / std::pow(10.0, exponent);
    std::string m = fixed(mantissa, 1);
    if (m.size() > 2 && m.compare(m.size() - 2, 2, ".0") == 0) m.resize(m.size() - 2);
    return m + "e" + std::to_string(exponent);
  }
  std::string text = fixed(value, 3);
  while (!text.empty() && text.back() == '0') text.pop_back();
  if (!text.empty() && text.back() == '.') text.pop_back();
  return text;
}

// A round step giving about `count` intervals up to `max`.
double nice_step(double max, int count) {
  if (!(max > 0) || !std::isfinite(max)) return 1.0;
  const double raw = max / count;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (const double factor : {1.0, 2.0, 5.0}) {
    if (raw <= factor * power * (1 + 1e-9)) return factor * power;
  }
  return 10.0 * power;
}

std::string open_svg(const std::string& id, const std::string& title) {
  return "<svg id=\"" + html_escape(id) + "\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
         std::to_string(kWidth) + "\" height=\"" + std::to_string(kHeight) + "\" viewBox=\"0 0 " +
         std::to_string(kWidth) + " " + std::to_string(kHeight) + "\" role=\"img\">\n<title>" + html_escape(title) +
         "</title>\n<text class=\"chart-title\" x=\"" + std::to_string(kLeft) + "\" y=\"20\">" + html_escape(title) +
         "</text>\n";
}

std::string axis_labels(const std::string& x_label, const std::string& y_label) {
  const double x_mid = kLeft + kPlotWidth / 2;
  const double y_mid = kTop + kPlotHeight / 2;
  return "<text class=\"axis-label\" x=\"" + num(x_mid) + "\" y=\"" + std::to_string(kHeight - 12) +
         "\" text-anchor=\"middle\">" + html_escape(x_label) + "</text>\n<text class=\"axis-label\" x=\"16\" y=\"" +
         num(y_mid) + "\" text-anchor=\"middle\" transform=\"rotate(-90 16 " + num(y_mid) + ")\">" +
         html_escape(y_label) + "</text>\n";
}

std::string frame() {
  return "<rect class=\"plot\" x=\"" + std::to_string(kLeft) + "\" y=\"" + std::to_string(kTop) + "\" width=\"" +
         num(kPlotWidth) + "\" height=\"" + num(kPlotHeight) + "\"/>\n";
}

std::string legend_entry(int index, const std::string& color, const std::string& text) {
  const double x = kWidth - kRight + 14;
  const double y = kTop + 4 + 18.0 * index;
  return "<rect class=\"legend-swatch\" x=\"" + num(x) + "\" y=\"" + num(y) + "\" width=\"12\" height=\"12\" fill=\"" +
         color + "\"/><text class=\"legend\" x=\"" + num(x + 18) + "\" y=\"" + num(y + 10) + "\">" + html_escape(text) +
         "</text>\n";
}

// Horizontal grid lines and labels of a linear y axis from 0 to y_max.
std::string linear_y_axis(double y_max, double step) {
  std::string svg;
  for (int i = 0;; ++i) {
    const double value = step * i;
    if (value > y_max * (1 + 1e-9)) break;
    const double y = kTop + kPlotHeight - kPlotHeight * value / y_max;
    svg += "<line class=\"grid\" x1=\"" + std::to_string(kLeft) + "\" x2=\"" + num(kLeft + kPlotWidth) + "\" y1=\"" +
           num(y) + "\" y2=\"" + num(y) + "\"/><text class=\"tick\" x=\"" + std::to_string(kLeft - 6) + "\" y=\"" +
           num(y + 4) + "\" text-anchor=\"end\">" + tick_text(value) + "</text>\n";
  }
  return svg;
}

std::string linear_x_axis(double x_max, double step) {
  std::string svg;
  for (int i = 0;; ++i) {
    const double value = step * i;
    if (value > x_max * (1 + 1e-9)) break;
    const double x = kLeft + kPlotWidth * value / x_max;
    svg += "<line class=\"grid\" x1=\"" + num(x) + "\" x2=\"" + num(x) + "\" y1=\"" + std::to_string(kTop) +
           "\" y2=\"" + num(kTop + kPlotHeight) + "\"/><text class=\"tick\" x=\"" + num(x) + "\" y=\"" +
           num(kTop + kPlotHeight + 16) + "\" text-anchor=\"middle\">" + tick_text(value) + "</text>\n";
  }
  return svg;
}

}  // namespace

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string line_chart_svg(const LineChartSpec& spec) {
  double data_max = 0;
  for (const auto& series : spec.series) {
    for (const auto& [x, y] : series.points) data_max = std::max(data_max, y);
  }
  double y_max = spec.y_max > 0 ? spec.y_max : data_max;
  const double y_step = nice_step(y_max > 0 ? y_max : 1.0, 5);
  y_max = spec.y_max > 0 ? spec.y_max : std::max(y_step, std::ceil(y_max / y_step - 1e-9) * y_step);
  const double x_max = spec.x_max > 0 ? spec.x_max : 1.0;
  std::string svg = open_svg(spec.id, spec.title) + frame() + linear_y_axis(y_max, nice_step(y_max, 5)) +
                    linear_x_axis(x_max, nice_step(x_max, 8)) + axis_labels(spec.x_label, spec.y_label);
  int index = 0;
  for (const auto& series : spec.series) {
    svg += "<polyline class=\"series\" fill=\"none\" stroke=\"" + series.color +
           "\" stroke-width=\"1.5\" data-series=\"" + html_escape(series.name) + "\" points=\"";
    bool first = true;
    for (const auto& [x, y] : series.points) {
      const double px = kLeft + kPlotWidth * std::clamp(x / x_max, 0.0, 1.0);
      const double py = kTop + kPlotHeight - kPlotHeight * std::clamp(y / y_max, 0.0, 1.0);
      if (!first) svg += ' ';
      svg += num(px) + "," + num(py);
      first = false;
    }
    svg += "\"><title>" + html_escape(series.name) + "</title></polyline>\n";
    svg += legend_entry(index++, series.color, series.name);
  }
  return svg + "</svg>\n";
}

std::string bar_chart_svg(const BarChartSpec& spec) {
  double data_max = 0;
  for (const auto& parts : spec.item_parts) {
    double sum = 0;
    for (const double part : parts) sum += std::max(0.0, part);
    data_max = std::max(data_max, sum);
  }
  const double step = nice_step(data_max > 0 ? data_max : 1.0, 5);
  const double y_max = std::max(step, std::ceil(data_max / step - 1e-9) * step);
  std::string svg = open_svg(spec.id, spec.title) + frame() + linear_y_axis(y_max, step) +
                    axis_labels(spec.item_labels.size() > 12 ? "layer" : "", spec.y_label);
  const std::size_t count = std::max<std::size_t>(1, spec.item_labels.size());
  const double slot = kPlotWidth / static_cast<double>(count);
  const double bar = std::max(1.0, slot * 0.7);
  const bool label_items = count <= 12;
  for (std::size_t i = 0; i < spec.item_labels.size(); ++i) {
    const double x = kLeft + slot * static_cast<double>(i) + (slot - bar) / 2;
    double base = 0, total = 0;
    for (std::size_t p = 0; p < spec.part_names.size() && p < spec.item_parts[i].size(); ++p) {
      const double value = std::max(0.0, spec.item_parts[i][p]);
      total += value;
      if (value <= 0) continue;
      const double y_top = kTop + kPlotHeight - kPlotHeight * (base + value) / y_max;
      const double height = kPlotHeight * value / y_max;
      svg += "<rect class=\"bar\" x=\"" + num(x) + "\" y=\"" + num(y_top) + "\" width=\"" + num(bar) + "\" height=\"" +
             num(height) + "\" fill=\"" + spec.part_colors[p % spec.part_colors.size()] + "\"><title>" +
             html_escape(spec.item_labels[i]) + ": " + html_escape(spec.part_names[p]) + " " +
             fixed(value, spec.value_decimals) + " " + html_escape(spec.y_label) + "</title></rect>\n";
      base += value;
    }
    if (label_items) {
      const double cx = x + bar / 2;
      svg += "<text class=\"tick\" x=\"" + num(cx) + "\" y=\"" + num(kTop + kPlotHeight + 16) +
             "\" text-anchor=\"middle\">" + html_escape(spec.item_labels[i]) + "</text>\n";
      svg += "<text class=\"value\" x=\"" + num(cx) + "\" y=\"" +
             num(kTop + kPlotHeight - kPlotHeight * total / y_max - 4) + "\" text-anchor=\"middle\">" +
             fixed(total, spec.value_decimals) + "</text>\n";
    }
  }
  if (spec.part_names.size() > 1) {
    for (std::size_t p = 0; p < spec.part_names.size(); ++p) {
      svg += legend_entry(static_cast<int>(p), spec.part_colors[p % spec.part_colors.size()], spec.part_names[p]);
    }
  }
  return svg + "</svg>\n";
}

std::string roofline_svg(const RooflineSpec& spec) {
  const double ridge = spec.peak_dram_gbps > 0 ? spec.peak_gmac_per_s / spec.peak_dram_gbps : 1.0;
  double x_lo = ridge, x_hi = ridge, y_lo = spec.peak_gmac_per_s, y_hi = spec.peak_gmac_per_s;
  for (const auto& point : spec.points) {
    if (point.macs_per_dram_byte > 0 && std::isfinite(point.macs_per_dram_byte)) {
      x_lo = std::min(x_lo, point.macs_per_dram_byte);
      x_hi = std::max(x_hi, point.macs_per_dram_byte);
    }
    if (point.gmac_per_s > 0) {
      y_lo = std::min(y_lo, point.gmac_per_s);
      y_hi = std::max(y_hi, point.gmac_per_s);
    }
  }
  // Whole decades with room on both sides.
  const double dx_lo = std::floor(std::log10(x_lo)) - 1, dx_hi = std::ceil(std::log10(x_hi) - 1e-9) + 1;
  const double dy_lo = std::floor(std::log10(y_lo)) - 1, dy_hi = std::ceil(std::log10(y_hi) - 1e-9);
  const auto px = [&](double x) { return kLeft + kPlotWidth * (std::log10(x) - dx_lo) / (dx_hi - dx_lo); };
  const auto py = [&](double y) {
    const double t = std::clamp((std::log10(y) - dy_lo) / (dy_hi - dy_lo), 0.0, 1.0);
    return kTop + kPlotHeight - kPlotHeight * t;
  };
  std::string svg = open_svg(spec.id, spec.title) + frame();
  for (double d = dx_lo; d <= dx_hi + 1e-9; d += 1) {
    const double x = px(std::pow(10.0, d));
    svg += "<line class=\"grid\" x1=\"" + num(x) + "\" x2=\"" + num(x) + "\" y1=\"" + std::to_string(kTop) +
           "\" y2=\"" + num(kTop + kPlotHeight) + "\"/><text class=\"tick\" x=\"" + num(x) + "\" y=\"" +
           num(kTop + kPlotHeight + 16) + "\" text-anchor=\"middle\">" + tick_text(std::pow(10.0, d)) + "</text>\n";
  }
  for (double d = dy_lo; d <= dy_hi + 1e-9; d += 1) {
    const double y = py(std::pow(10.0, d));
    svg += "<line class=\"grid\" x1=\"" + std::to_string(kLeft) + "\" x2=\"" + num(kLeft + kPlotWidth) + "\" y1=\"" +
           num(y) + "\" y2=\"" + num(y) + "\"/><text class=\"tick\" x=\"" + std::to_string(kLeft - 6) + "\" y=\"" +
           num(y + 4) + "\" text-anchor=\"end\">" + tick_text(std::pow(10.0, d)) + "</text>\n";
  }
  svg += axis_labels("arithmetic intensity (MAC/DRAM byte, log scale)", "achieved throughput (GMAC/s, log scale)");
  // The roof: the bandwidth slope up to the ridge, then flat at the peak.
  const double x_start = std::pow(10.0, dx_lo), x_end = std::pow(10.0, dx_hi);
  std::string roof;
  if (spec.peak_dram_gbps > 0) {
    const double x0 = std::max(x_start, std::pow(10.0, dy_lo) / spec.peak_dram_gbps);
    roof = num(px(x0)) + "," + num(py(spec.peak_dram_gbps * x0)) + " " + num(px(ridge)) + "," +
           num(py(spec.peak_gmac_per_s)) + " ";
  } else {
    roof = num(px(x_start)) + "," + num(py(spec.peak_gmac_per_s)) + " ";
  }
  roof += num(px(x_end)) + "," + num(py(spec.peak_gmac_per_s));
  svg += "<polyline class=\"roof\" fill=\"none\" stroke=\"#444\" stroke-width=\"2\" points=\"" + roof +
         "\"><title>roof: min(" + fixed(spec.peak_gmac_per_s, 1) + " GMAC/s, " + fixed(spec.peak_dram_gbps, 1) +
         " GB/s x intensity)</title></polyline>\n";
  for (const auto& point : spec.points) {
    const bool on_chip = !(point.macs_per_dram_byte > 0 && std::isfinite(point.macs_per_dram_byte));
    const double x = on_chip ? kLeft + kPlotWidth - 4 : px(point.macs_per_dram_byte);
    const double y = py(point.gmac_per_s > 0 ? point.gmac_per_s : std::pow(10.0, dy_lo));
    svg += "<circle class=\"layer-point\" cx=\"" + num(x) + "\" cy=\"" + num(y) + "\" r=\"4\" fill=\"" +
           std::string(on_chip ? "#999" : "#1f77b4") + "\"><title>" + html_escape(point.label) + ": " +
           (on_chip ? std::string("no DRAM traffic") : fixed(point.macs_per_dram_byte, 2) + " MAC/B") + ", " +
           fixed(point.gmac_per_s, 2) + " GMAC/s</title></circle>\n";
  }
  svg += legend_entry(0, "#444", "roof");
  svg += legend_entry(1, "#1f77b4", "layer");
  svg += legend_entry(2, "#999", "layer, no DRAM bytes");
  return svg + "</svg>\n";
}

std::string placeholder_svg(const std::string& id, const std::string& title, const std::string& reason) {
  return open_svg(id, title) + frame() + "<text class=\"placeholder\" x=\"" + num(kLeft + kPlotWidth / 2) + "\" y=\"" +
         num(kTop + kPlotHeight / 2) + "\" text-anchor=\"middle\">" + html_escape(reason) + "</text>\n</svg>\n";
}

}  // namespace npusim
