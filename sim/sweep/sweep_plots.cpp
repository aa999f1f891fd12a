#include "sim/sweep/sweep_plots.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <utility>

#include "sim/report/svg_chart.h"
#include "sim/report/text_table.h"
#include "sim/sweep/sweep_pareto.h"

namespace npusim {
namespace {

constexpr int kWidth = 900, kHeight = 420;
constexpr int kLeft = 80, kRight = 170, kTop = 34, kBottom = 84;  // room for slanted size labels
constexpr double kPlotWidth = kWidth - kLeft - kRight;
constexpr double kPlotHeight = kHeight - kTop - kBottom;

const std::vector<std::string> kPalette{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                        "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

constexpr const char* kStyle =
    "<style>\n"
    ".plot { fill: #fafafa; stroke: #888; } .grid { stroke: #e2e2e2; }\n"
    ".tick, .legend { font: 11px sans-serif; fill: #333; } .axis-label { font: 12px sans-serif; fill: #222; }\n"
    ".chart-title { font: bold 14px sans-serif; fill: #222; } .placeholder { font: 16px sans-serif; fill: #888; }\n"
    "</style>\n";

std::string num(double value) { return fixed(value, 1); }

// Short tick text: no trailing zeros, an exponent for the extremes.
std::string tick_text(double value) {
  const double magnitude = std::fabs(value);
  if (magnitude >= 1e6 || (magnitude < 1e-3 && magnitude > 0)) {
    const int exponent = static_cast<int>(std::floor(std::log10(magnitude) + 1e-9));
    return fixed(value / std::pow(10.0, exponent), 0) + "e" + std::to_string(exponent);
  }
  std::string text = fixed(value, 3);
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text;
}

// A log axis over whole decades covering [lo, hi] (both > 0).
struct LogScale {
  double lo_exp = 0, hi_exp = 1;
  LogScale(double lo, double hi) {
    lo_exp = std::floor(std::log10(lo) + 1e-12);
    hi_exp = std::ceil(std::log10(hi) - 1e-12);
    if (hi_exp <= lo_exp) hi_exp = lo_exp + 1;
  }
  double fraction(double value) const { return (std::log10(value) - lo_exp) / (hi_exp - lo_exp); }
  // 1, 2, 5 per decade when few decades, else decades only.
  std::vector<double> ticks() const {
    std::vector<double> list;
    const bool fine = hi_exp - lo_exp <= 2;
    for (double d = lo_exp; d <= hi_exp + 1e-9; d += 1) {
      for (const double m : {1.0, 2.0, 5.0}) {
        if (!fine && m != 1.0) continue;
        const double value = m * std::pow(10.0, d);
        if (std::log10(value) <= hi_exp + 1e-9) list.push_back(value);
      }
    }
    return list;
  }
};

double px_of(double fraction) { return kLeft + kPlotWidth * fraction; }
double py_of(double fraction) { return kTop + kPlotHeight - kPlotHeight * fraction; }

std::string open_svg(const std::string& id, const std::string& title) {
  return "<svg id=\"" + html_escape(id) + "\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(kWidth) +
         "\" height=\"" + std::to_string(kHeight) + "\" viewBox=\"0 0 " + std::to_string(kWidth) + " " +
         std::to_string(kHeight) + "\" role=\"img\">\n" + kStyle + "<title>" + html_escape(title) +
         "</title>\n<text class=\"chart-title\" x=\"" + std::to_string(kLeft) + "\" y=\"20\">" + html_escape(title) +
         "</text>\n<rect class=\"plot\" x=\"" + std::to_string(kLeft) + "\" y=\"" + std::to_string(kTop) +
         "\" width=\"" + num(kPlotWidth) + "\" height=\"" + num(kPlotHeight) + "\"/>\n";
}

std::string axis_labels(const std::string& x_label, const std::string& y_label) {
  const double x_mid = kLeft + kPlotWidth / 2, y_mid = kTop + kPlotHeight / 2;
  return "<text class=\"axis-label\" x=\"" + num(x_mid) + "\" y=\"" + std::to_string(kHeight - 12) +
         "\" text-anchor=\"middle\">" + html_escape(x_label) + "</text>\n<text class=\"axis-label\" x=\"16\" y=\"" +
         num(y_mid) + "\" text-anchor=\"middle\" transform=\"rotate(-90 16 " + num(y_mid) + ")\">" +
         html_escape(y_label) + "</text>\n";
}

// `slanted`: labels at 45 degrees, for many ticks.
std::string x_tick(double x, const std::string& text, bool slanted = false) {
  const double y = kTop + kPlotHeight + 16;
  const std::string placement = slanted
                                    ? "\" text-anchor=\"end\" transform=\"rotate(-45 " + num(x) + " " + num(y) + ")\">"
                                    : "\" text-anchor=\"middle\">";
  return "<line class=\"grid\" x1=\"" + num(x) + "\" x2=\"" + num(x) + "\" y1=\"" + std::to_string(kTop) + "\" y2=\"" +
         num(kTop + kPlotHeight) + "\"/><text class=\"tick\" x=\"" + num(x) + "\" y=\"" + num(y) + placement +
         html_escape(text) + "</text>\n";
}

std::string y_tick(double y, const std::string& text) {
  return "<line class=\"grid\" x1=\"" + std::to_string(kLeft) + "\" x2=\"" + num(kLeft + kPlotWidth) + "\" y1=\"" +
         num(y) + "\" y2=\"" + num(y) + "\"/><text class=\"tick\" x=\"" + std::to_string(kLeft - 6) + "\" y=\"" +
         num(y + 4) + "\" text-anchor=\"end\">" + html_escape(text) + "</text>\n";
}

std::string legend_entry(int index, const std::string& swatch, const std::string& text) {
  const double x = kWidth - kRight + 14, y = kTop + 4 + 18.0 * index;
  return swatch.empty() ? std::string()
                        : "<circle cx=\"" + num(x + 6) + "\" cy=\"" + num(y + 6) + "\" r=\"5\" " + swatch +
                              "/><text class=\"legend\" x=\"" + num(x + 18) + "\" y=\"" + num(y + 10) + "\">" +
                              html_escape(text) + "</text>\n";
}

// Formats in order of first appearance, each with its colour.
std::vector<std::pair<std::string, std::string>> format_colors(const std::vector<SweepPlotPoint>& points) {
  std::vector<std::pair<std::string, std::string>> colors;
  for (const auto& p : points) {
    const bool known = std::any_of(colors.begin(), colors.end(), [&](const auto& c) { return c.first == p.format; });
    if (!known) colors.emplace_back(p.format, kPalette[colors.size() % kPalette.size()]);
  }
  return colors;
}

std::string color_of(const std::vector<std::pair<std::string, std::string>>& colors, const std::string& format) {
  for (const auto& [name, color] : colors) {
    if (name == format) return color;
  }
  return "#000";
}

bool plottable(const SweepPlotPoint& p) {
  return p.latency_us > 0 && p.energy_uj > 0 && std::isfinite(p.latency_us) && std::isfinite(p.energy_uj);
}

// The Pareto flags of `axes` (one vector per point, minimised), points below
// the SQNR floor kept off the front and out of the comparison.
std::vector<bool> front_of(std::vector<std::vector<double>> axes, const std::vector<bool>& below_sqnr_floor) {
  for (std::size_t i = 0; i < axes.size(); ++i) {
    if (below_sqnr_floor[i]) axes[i].assign(axes[i].size(), std::numeric_limits<double>::quiet_NaN());
  }
  return pareto_front(axes);
}

std::string floor_legend(const std::vector<SweepPlotPoint>& points, int row) {
  const bool any = std::any_of(points.begin(), points.end(), [](const auto& p) { return p.below_sqnr_floor; });
  return any ? legend_entry(row, "fill=\"none\" stroke=\"#000\" stroke-width=\"1.5\"", "below min_sqnr_db") : "";
}

// Distinct sizes ordered by PEs, then rows.
std::vector<std::pair<int, int>> sizes_by_pes(const std::vector<SweepPlotPoint>& points) {
  std::vector<std::pair<int, int>> sizes;
  for (const auto& p : points) sizes.emplace_back(p.rows, p.cols);
  std::sort(sizes.begin(), sizes.end(), [](const auto& a, const auto& b) {
    const long long pa = 1LL * a.first * a.second, pb = 1LL * b.first * b.second;
    return pa != pb ? pa < pb : a < b;
  });
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  return sizes;
}

struct BestAtSize {
  std::string format;
  std::pair<int, int> size;
  double value = 0;
  bool below_sqnr_floor = false;  // no point of this format and size meets the floor
};

// Per format (in `colors` order) and size (fewest PEs first): the lowest value
// among the points meeting the SQNR floor, else among all of them.
template <typename ValueOf>
std::vector<BestAtSize> best_per_size(const std::vector<SweepPlotPoint>& points,
                                      const std::vector<std::pair<std::string, std::string>>& colors,
                                      ValueOf value_of) {
  const std::vector<std::pair<int, int>> sizes = sizes_by_pes(points);
  std::vector<BestAtSize> bests;
  for (const auto& [format, color] : colors) {
    for (const auto& size : sizes) {
      std::optional<BestAtSize> best;
      for (const auto& p : points) {
        if (p.format != format || std::make_pair(p.rows, p.cols) != size) continue;
        const BestAtSize candidate{format, size, value_of(p), p.below_sqnr_floor};
        const bool better = !best || (best->below_sqnr_floor && !candidate.below_sqnr_floor) ||
                            (best->below_sqnr_floor == candidate.below_sqnr_floor && candidate.value < best->value);
        if (better) best = candidate;
      }
      if (best) bests.push_back(*best);
    }
  }
  return bests;
}

}  // namespace

std::string energy_latency_svg(const std::string& title, const std::vector<SweepPlotPoint>& all) {
  std::vector<SweepPlotPoint> points;
  for (const auto& p : all) {
    if (plottable(p)) points.push_back(p);
  }
  if (points.empty()) return placeholder_svg("energy-latency", title, "no finished points to plot");
  double x_lo = points[0].latency_us, x_hi = x_lo, y_lo = points[0].energy_uj, y_hi = y_lo;
  for (const auto& p : points) {
    x_lo = std::min(x_lo, p.latency_us), x_hi = std::max(x_hi, p.latency_us);
    y_lo = std::min(y_lo, p.energy_uj), y_hi = std::max(y_hi, p.energy_uj);
  }
  std::vector<std::vector<double>> axes;
  std::vector<bool> below;
  for (const auto& p : points) {
    axes.push_back({p.latency_us, p.energy_uj});
    below.push_back(p.below_sqnr_floor);
  }
  const std::vector<bool> front = front_of(axes, below);
  const LogScale xs(x_lo, x_hi), ys(y_lo, y_hi);
  std::string svg = open_svg("energy-latency", title);
  for (const double t : xs.ticks()) svg += x_tick(px_of(xs.fraction(t)), tick_text(t));
  for (const double t : ys.ticks()) svg += y_tick(py_of(ys.fraction(t)), tick_text(t));
  svg += axis_labels("latency per inference (us, log scale)", "energy per inference (uJ, log scale)");
  const auto colors = format_colors(points);
  // Dominated points first, so the front is drawn on top.
  for (const bool on_front : {false, true}) {
    for (std::size_t i = 0; i < points.size(); ++i) {
      const auto& p = points[i];
      if (front[i] != on_front) continue;
      const std::string color = color_of(colors, p.format);
      std::string look = on_front ? " fill=\"" + color + "\" stroke=\"#000\" stroke-width=\"2\""
                                  : " fill=\"" + color + "\" fill-opacity=\"0.75\"";
      if (p.below_sqnr_floor) look = " fill=\"none\" stroke=\"" + color + "\" stroke-width=\"1.5\"";
      svg += "<circle class=\"" + std::string(on_front ? "point pareto" : "point") + "\" cx=\"" +
             num(px_of(xs.fraction(p.latency_us))) + "\" cy=\"" + num(py_of(ys.fraction(p.energy_uj))) + "\" r=\"" +
             (on_front ? "6" : "4") + "\"" + look + "><title>" + html_escape(p.label) + ": " + fixed(p.latency_us, 3) +
             " us, " + fixed(p.energy_uj, 4) + " uJ" + (on_front ? ", Pareto front" : "") +
             (p.below_sqnr_floor ? ", below min_sqnr_db" : "") + "</title></circle>\n";
    }
  }
  int row = 0;
  for (const auto& [format, color] : colors) svg += legend_entry(row++, "fill=\"" + color + "\"", format);
  svg += legend_entry(row++, "fill=\"#fff\" stroke=\"#000\" stroke-width=\"2\"", "Pareto front");
  svg += floor_legend(points, row);
  return svg + "</svg>\n";
}

std::string metric_vs_array_svg(const std::string& title, const std::vector<SweepPlotPoint>& all, bool energy) {
  const std::string id = energy ? "energy-vs-array" : "latency-vs-array";
  std::vector<SweepPlotPoint> points;
  for (const auto& p : all) {
    if (plottable(p)) points.push_back(p);
  }
  if (points.empty()) return placeholder_svg(id, title, "no finished points to plot");
  const auto value_of = [energy](const SweepPlotPoint& p) { return energy ? p.energy_uj : p.latency_us; };
  const std::vector<std::pair<int, int>> sizes = sizes_by_pes(points);
  const auto x_of = [&](std::pair<int, int> size) {
    const auto at = std::find(sizes.begin(), sizes.end(), size) - sizes.begin();
    return px_of((static_cast<double>(at) + 0.5) / static_cast<double>(sizes.size()));
  };
  double lo = value_of(points[0]), hi = lo;
  for (const auto& p : points) lo = std::min(lo, value_of(p)), hi = std::max(hi, value_of(p));
  const LogScale ys(lo, hi);
  std::string svg = open_svg(id, title);
  const bool slanted = sizes.size() > 10;
  for (const auto& size : sizes) {
    svg += x_tick(x_of(size), std::to_string(size.first) + "x" + std::to_string(size.second), slanted);
  }
  for (const double t : ys.ticks()) svg += y_tick(py_of(ys.fraction(t)), tick_text(t));
  svg += axis_labels("array size (rows x cols)", energy ? "energy per inference (uJ, log scale), best per size"
                                                        : "latency per inference (us, log scale), best per size");
  const auto colors = format_colors(points);
  std::vector<BestAtSize> bests = best_per_size(points, colors, value_of);
  std::vector<std::vector<double>> axes;
  std::vector<bool> below;
  for (const auto& b : bests) {
    axes.push_back({static_cast<double>(b.size.first) * b.size.second, b.value});
    below.push_back(b.below_sqnr_floor);
  }
  const std::vector<bool> front = front_of(axes, below);
  int row = 0;
  for (const auto& [format, color] : colors) {
    std::string coords;  // in size order: bests are sorted by format, then size
    for (const auto& b : bests) {
      if (b.format != format) continue;
      coords += (coords.empty() ? "" : " ") + num(x_of(b.size)) + "," + num(py_of(ys.fraction(b.value)));
    }
    svg += "<polyline class=\"series\" fill=\"none\" stroke=\"" + color + "\" stroke-width=\"2\" points=\"" + coords +
           "\"><title>" + html_escape(format) + "</title></polyline>\n";
    for (std::size_t i = 0; i < bests.size(); ++i) {
      const BestAtSize& b = bests[i];
      if (b.format != format) continue;
      const std::string look = b.below_sqnr_floor ? "fill=\"none\" stroke=\"" + color + "\" stroke-width=\"1.5\""
                               : front[i]         ? "fill=\"" + color + "\" stroke=\"#000\" stroke-width=\"2\""
                                                  : "fill=\"" + color + "\"";
      svg += "<circle class=\"" + std::string(front[i] ? "best pareto" : "best") + "\" cx=\"" + num(x_of(b.size)) +
             "\" cy=\"" + num(py_of(ys.fraction(b.value))) + "\" r=\"" + (front[i] ? "5" : "3.5") + "\" " + look +
             "><title>" + html_escape(format) + " " + std::to_string(b.size.first) + "x" +
             std::to_string(b.size.second) + ": " + fixed(b.value, energy ? 4 : 3) + (energy ? " uJ" : " us") +
             (front[i] ? ", Pareto front of PEs and this value" : "") +
             (b.below_sqnr_floor ? ", below min_sqnr_db" : "") + "</title></circle>\n";
    }
    svg += legend_entry(row++, "fill=\"" + color + "\"", format);
  }
  svg += legend_entry(row++, "fill=\"#fff\" stroke=\"#000\" stroke-width=\"2\"", "Pareto front");
  svg += floor_legend(points, row);
  return svg + "</svg>\n";
}

}  // namespace npusim
