// The Pareto front of a set of design points over objectives to minimise.
#pragma once

#include <vector>

namespace npusim {

// Point a dominates point b when a is no worse in every objective (a[k] <= b[k]
// for all k) and strictly better in at least one (a[k] < b[k] for some k). The
// front is every point no other point dominates: points with identical
// objective vectors are all on it (neither dominates the other). Objectives to
// maximise are negated by the caller. A point with a NaN objective is never on
// the front and dominates nothing. O(n^2 k): thousands of points take
// milliseconds.
std::vector<bool> pareto_front(const std::vector<std::vector<double>>& points);

// Whether a dominates b (same length, no NaN).
bool dominates(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace npusim
