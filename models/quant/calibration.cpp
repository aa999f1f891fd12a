#include "models/quant/calibration.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace npusim {
namespace {

// Shrink steps of the minimum-MSE search: the range [a*lo, a*hi] for
// a = i / kMseSteps, i = 1..kMseSteps.
constexpr int kMseSteps = 256;
// Lloyd-Max iterations of the two-level fit (it converges in a few).
constexpr int kLloydIterations = 50;

}  // namespace

void RangeStats::add(std::span<const float> values) {
  for (const float v : values) {
    if (!std::isfinite(v)) continue;  // a NaN or inf says nothing about the range
    const double x = v;
    min = count == 0 ? x : std::min(min, x);
    max = count == 0 ? x : std::max(max, x);
    sum_abs += std::fabs(x);
    ++count;
  }
}

QuantParams range_quant(ClipRange range, NumberFormat format) {
  const double lo = std::min(range.lo, 0.0);
  const double hi = std::max(range.hi, 0.0);
  const int qmin = min_integer_value(format);
  const int qmax = max_integer_value(format);
  const double scale = (hi - lo) / static_cast<double>(qmax - qmin);
  if (!(scale > 0.0) || !std::isfinite(scale)) return {1.0, 0, {}};
  const double zero_point = static_cast<double>(qmin) - std::round(lo / scale);
  return {scale, static_cast<std::int32_t>(std::clamp<double>(zero_point, qmin, qmax)), {}};
}

double quantization_mse(const Histogram& histogram, const QuantParams& quant, NumberFormat format) {
  const double qmin = min_integer_value(format);
  const double qmax = max_integer_value(format);
  double sum = 0.0;
  std::int64_t total = 0;
  for (std::size_t b = 0; b < histogram.counts.size(); ++b) {
    const std::int64_t count = histogram.counts[b];
    if (count == 0) continue;
    const double x = histogram.bin_center(b);
    const double q = std::clamp(std::round(x / quant.scale) + quant.zero_point, qmin, qmax);
    const double error = x - (q - quant.zero_point) * quant.scale;
    sum += static_cast<double>(count) * error * error;
    total += count;
  }
  return total > 0 ? sum / static_cast<double>(total) : 0.0;
}

namespace {

ClipRange percentile_range(const RangeStats& stats, const Histogram& histogram, double percentile) {
  const double keep = percentile / 100.0;
  ClipRange range{histogram_quantile(histogram, 1.0 - keep), histogram_quantile(histogram, keep)};
  range.lo = std::clamp(range.lo, stats.min, stats.max);
  range.hi = std::clamp(range.hi, stats.min, stats.max);
  return range;
}

// Shrinks [min, max] (widened to hold 0) towards 0 and keeps the range whose
// quantization error over the histogram is least; ties keep the wider range.
ClipRange mse_range(const RangeStats& stats, const Histogram& histogram, NumberFormat format) {
  const double lo = std::min(stats.min, 0.0);
  const double hi = std::max(stats.max, 0.0);
  ClipRange best{lo, hi};
  double best_error = quantization_mse(histogram, range_quant(best, format), format);
  for (int i = kMseSteps - 1; i >= 1; --i) {
    const double a = static_cast<double>(i) / kMseSteps;
    const ClipRange candidate{a * lo, a * hi};
    const double error = quantization_mse(histogram, range_quant(candidate, format), format);
    if (error < best_error) {
      best = candidate;
      best_error = error;
    }
  }
  return best;
}

}  // namespace

ClipRange choose_range(const RangeStats& stats, const Histogram& histogram, CalibrationMethod method,
                       const QuantizationOptions& options, NumberFormat format) {
  switch (method) {
    case CalibrationMethod::min_max: return {stats.min, stats.max};
    case CalibrationMethod::percentile: return percentile_range(stats, histogram, options.percentile);
    case CalibrationMethod::mse: return mse_range(stats, histogram, format);
  }
  return {stats.min, stats.max};
}

bool binary_needs_histogram(const RangeStats& stats) { return stats.count > 0 && stats.min >= 0.0 && stats.max > 0.0; }

QuantParams binary_quant(const RangeStats& stats, const Histogram& histogram) {
  if (stats.count == 0) return {1.0, 0, {}};
  if (!binary_needs_histogram(stats)) {
    const double mean_abs = stats.sum_abs / static_cast<double>(stats.count);
    return {mean_abs > 0.0 ? mean_abs : 1.0, 0, {}};
  }
  // Levels 0 and c, threshold c / 2: alternately place the threshold halfway
  // and the upper level at the mean of the values above it.
  double c = stats.max;
  for (int iteration = 0; iteration < kLloydIterations; ++iteration) {
    double sum = 0.0;
    std::int64_t count = 0;
    for (std::size_t b = 0; b < histogram.counts.size(); ++b) {
      const double x = histogram.bin_center(b);
      if (x < c / 2) continue;
      sum += x * static_cast<double>(histogram.counts[b]);
      count += histogram.counts[b];
    }
    if (count == 0) break;
    const double next = sum / static_cast<double>(count);
    if (next == c) break;
    c = next;
  }
  return {c / 2, -1, {}};
}

}  // namespace npusim
