#include "models/quant/histogram.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace npusim {

Histogram::Histogram(double lo_value, double hi_value, int bins)
    : lo(lo_value), hi(hi_value), counts(static_cast<std::size_t>(bins), 0) {
  if (bins < 1 || !(hi >= lo)) throw std::invalid_argument("Histogram: needs bins >= 1 and lo <= hi");
}

double Histogram::bin_width() const { return counts.empty() ? 0.0 : (hi - lo) / static_cast<double>(counts.size()); }

double Histogram::bin_center(std::size_t bin) const { return lo + (static_cast<double>(bin) + 0.5) * bin_width(); }

void Histogram::add(double value) {
  if (counts.empty() || std::isnan(value)) return;
  const double width = bin_width();
  const double position = width > 0.0 ? (value - lo) / width : 0.0;
  const double last = static_cast<double>(counts.size() - 1);
  const double clamped = std::clamp(std::floor(position), 0.0, last);
  ++counts[static_cast<std::size_t>(clamped)];
}

void Histogram::add(std::span<const float> values) {
  for (const float v : values) add(static_cast<double>(v));
}

std::int64_t Histogram::total() const {
  std::int64_t sum = 0;
  for (const auto c : counts) sum += c;
  return sum;
}

double histogram_quantile(const Histogram& histogram, double fraction) {
  const double target = std::clamp(fraction, 0.0, 1.0) * static_cast<double>(histogram.total());
  const double width = histogram.bin_width();
  double below = 0.0;
  for (std::size_t b = 0; b < histogram.counts.size(); ++b) {
    const auto count = static_cast<double>(histogram.counts[b]);
    if (count > 0.0 && below + count >= target) {
      const double inside = std::max(target - below, 0.0) / count;
      return histogram.lo + width * (static_cast<double>(b) + inside);
    }
    below += count;
  }
  return histogram.hi;
}

}  // namespace npusim
