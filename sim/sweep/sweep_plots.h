// The sweep's SVG plots, standalone files (inline style, no scripts, no
// external references) with every coordinate at fixed precision, so the same
// results give the same bytes.
#pragma once

#include <string>
#include <vector>

namespace npusim {

struct SweepPlotPoint {
  std::string format;  // the colour: MacFormat::label(), e.g. "W8A8"
  int rows = 0, cols = 0;
  double latency_us = 0;
  double energy_uj = 0;  // per inference
  // Below the spec's min_sqnr_db: drawn hollow, never ringed.
  bool below_sqnr_floor = false;
  std::string label;  // tooltip: the point's axis values
};

// Each plot rings the Pareto front of its own two axes (both minimised), over
// the points not below the SQNR floor: with more objectives than two, the
// spec's front (pareto.json) would ring points this plot shows as dominated.

// Energy per inference against latency, both log scale, one colour per format
// (in order of first appearance); the (latency, energy) front ringed in black
// (class "point pareto").
std::string energy_latency_svg(const std::string& title, const std::vector<SweepPlotPoint>& points);

// Energy (energy = true) or latency against array size: the distinct
// rows x cols on an ordinal x axis, fewest PEs first; y log scale; one line per
// format through the lowest value at each size (other axes: their best point).
// Ringed (class "best pareto"): the (PEs, value) front of those best points.
std::string metric_vs_array_svg(const std::string& title, const std::vector<SweepPlotPoint>& points, bool energy);

}  // namespace npusim
