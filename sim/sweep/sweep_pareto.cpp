#include "sim/sweep/sweep_pareto.h"

#include <cmath>
#include <cstddef>

namespace npusim {
namespace {

bool has_nan(const std::vector<double>& point) {
  for (const double v : point) {
    if (std::isnan(v)) return true;
  }
  return false;
}

}  // namespace

bool dominates(const std::vector<double>& a, const std::vector<double>& b) {
  bool strictly_better = false;
  for (std::size_t k = 0; k < a.size(); ++k) {
    if (a[k] > b[k]) return false;
    if (a[k] < b[k]) strictly_better = true;
  }
  return strictly_better;
}

std::vector<bool> pareto_front(const std::vector<std::vector<double>>& points) {
  std::vector<bool> front(points.size(), false);
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (has_nan(points[i])) continue;
    bool dominated = false;
    for (std::size_t j = 0; j < points.size() && !dominated; ++j) {
      dominated = j != i && !has_nan(points[j]) && dominates(points[j], points[i]);
    }
    front[i] = !dominated;
  }
  return front;
}

}  // namespace npusim
