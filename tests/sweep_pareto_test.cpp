// The Pareto front on hand-made points, against the definition.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "sim/sweep/sweep_pareto.h"

namespace npusim {
namespace {

TEST(SweepParetoTest, DominanceIsNoWorseEverywhereAndBetterSomewhere) {
  EXPECT_TRUE(dominates({1, 1}, {2, 2}));
  EXPECT_TRUE(dominates({1, 2}, {1, 3}));
  EXPECT_FALSE(dominates({1, 2}, {1, 2}));  // equal: neither dominates
  EXPECT_FALSE(dominates({1, 3}, {2, 2}));  // a trade-off
  EXPECT_FALSE(dominates({2, 2}, {1, 1}));
}

TEST(SweepParetoTest, FrontOfHandMadePoints) {
  // (energy, latency): the front is the lower-left staircase.
  const std::vector<std::vector<double>> points{
      {1, 9},  // front: least energy
      {2, 5},  // front
      {3, 5},  // dominated by {2, 5}
      {4, 2},  // front
      {9, 1},  // front: least latency
      {5, 5},  // dominated
      {4, 2},  // equal to a front point: on the front too
  };
  const std::vector<bool> expected{true, true, false, true, true, false, true};
  EXPECT_EQ(pareto_front(points), expected);
}

TEST(SweepParetoTest, ThirdObjectiveKeepsOtherwiseDominatedPoints) {
  // {3, 5, 1} loses to {2, 5, 4} in the first two, wins on area.
  const std::vector<std::vector<double>> points{{2, 5, 4}, {3, 5, 1}, {3, 6, 4}};
  const std::vector<bool> expected{true, true, false};
  EXPECT_EQ(pareto_front(points), expected);
}

TEST(SweepParetoTest, NanPointsAreNeverOnTheFrontAndDominateNothing) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<std::vector<double>> points{{nan, 0}, {5, 5}, {1, std::numeric_limits<double>::infinity()}};
  const std::vector<bool> expected{false, true, true};
  EXPECT_EQ(pareto_front(points), expected);
  EXPECT_TRUE(pareto_front({}).empty());
  EXPECT_EQ(pareto_front({{3, 3}}), std::vector<bool>{true});
}

}  // namespace
}  // namespace npusim
