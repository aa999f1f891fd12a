// The sweep's SVG plots: each rings the Pareto front of its own two axes, and
// points under the SQNR floor are drawn hollow and never ringed.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/sweep/sweep_plots.h"

namespace npusim {
namespace {

std::size_t count(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

SweepPlotPoint at(double latency_us, double energy_uj, int side = 8, bool below = false) {
  SweepPlotPoint p;
  p.format = "W8A8";
  p.rows = p.cols = side;
  p.latency_us = latency_us;
  p.energy_uj = energy_uj;
  p.below_sqnr_floor = below;
  p.label = "p";
  return p;
}

TEST(SweepPlots, EnergyLatencyRingsTheFrontOfItsTwoAxesOnly) {
  // (1,3), (2,2), (3,1) form the 2-D front; (2,3) is dominated by (2,2) here,
  // whatever a third objective (area) would say of it.
  const std::string svg = energy_latency_svg("t", {at(1, 3), at(2, 2), at(3, 1), at(2, 3)});
  EXPECT_EQ(count(svg, "class=\"point pareto\""), 3u);
  EXPECT_EQ(count(svg, "class=\"point\""), 1u);
  EXPECT_EQ(svg.find("below min_sqnr_db"), std::string::npos);  // no floor, no legend entry
}

TEST(SweepPlots, PointsBelowTheSqnrFloorAreHollowAndDoNotDominate) {
  // (0.5, 0.5) would dominate every other point; under the floor it is out.
  const std::string svg = energy_latency_svg("t", {at(1, 3), at(2, 2), at(3, 1), at(0.5, 0.5, 8, true)});
  EXPECT_EQ(count(svg, "class=\"point pareto\""), 3u);
  EXPECT_EQ(count(svg, "fill=\"none\""), 2u);  // the point and its legend swatch
  EXPECT_NE(svg.find(", below min_sqnr_db</title>"), std::string::npos);
}

TEST(SweepPlots, ArrayPlotRingsTheFrontOfPesAndValue) {
  // Best energy per size: 8x8 3 uJ, 16x16 2 uJ, 32x32 4 uJ (and a worse 16x16
  // point). The fewest PEs and the lowest energy are on the front; 32x32,
  // larger and costlier than 16x16, is not.
  const std::string svg =
      metric_vs_array_svg("t", {at(1, 3, 8), at(1, 2, 16), at(1, 5, 16), at(1, 4, 32)}, /*energy=*/true);
  EXPECT_EQ(count(svg, "class=\"best pareto\""), 2u);
  EXPECT_EQ(count(svg, "class=\"best\""), 1u);
  EXPECT_NE(svg.find("16x16: 2.0000 uJ"), std::string::npos);
}

}  // namespace
}  // namespace npusim
