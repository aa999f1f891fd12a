// A fixed-bin histogram of tensor values (calibration and accuracy metrics).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace npusim {

// A histogram of `counts.size()` equal bins over [lo, hi]; a value equal to hi
// falls in the last bin, values outside are clamped to the end bins.
struct Histogram {
  double lo = 0.0;
  double hi = 0.0;
  std::vector<std::int64_t> counts;

  Histogram() = default;
  Histogram(double lo, double hi, int bins);
  void add(std::span<const float> values);
  void add(double value);
  double bin_width() const;
  double bin_center(std::size_t bin) const;
  std::int64_t total() const;
};

// The value below which `fraction` (in [0, 1]) of the histogram's mass lies,
// interpolated linearly within a bin.
double histogram_quantile(const Histogram& histogram, double fraction);

}  // namespace npusim
