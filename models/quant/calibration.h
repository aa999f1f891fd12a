// Activation ranges from calibration data: the statistics of one tensor over
// every calibration input, and the quantization parameters they lead to.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "accel/formats/number_format.h"
#include "models/quant/histogram.h"
#include "models/quant/quantize.h"
#include "models/tensor.h"

namespace npusim {

// min, max, sum |x| and count of one tensor's values over the calibration set.
struct RangeStats {
  double min = 0.0;
  double max = 0.0;
  double sum_abs = 0.0;
  std::int64_t count = 0;

  void add(std::span<const float> values);
};

// Bins of the calibration histograms (percentile and MSE work at this resolution).
inline constexpr int kCalibrationBins = 2048;

struct ClipRange {
  double lo = 0.0;
  double hi = 0.0;
};

// Asymmetric int8 / int4 parameters for a range: the range is widened to hold
// 0 (so zero, and padding, are exact), scale = (hi - lo) / (qmax - qmin),
// zero_point = qmin - round(lo / scale) clamped into the format. A range of
// width 0 gets scale 1.
QuantParams range_quant(ClipRange range, NumberFormat format);

// Mean squared error of quantizing the histogram's values (taken at the bin
// centers) with `quant` in `format`.
double quantization_mse(const Histogram& histogram, const QuantParams& quant, NumberFormat format);

// The clipping range of `method` (percentile from `options`), for int8 / int4.
// `histogram` spans [stats.min, stats.max]; min/max does not read it.
ClipRange choose_range(const RangeStats& stats, const Histogram& histogram, CalibrationMethod method,
                       const QuantizationOptions& options, NumberFormat format);

// Two-level (binary) parameters: {-s, +s} with s = mean |x| when the tensor
// takes negative values; {0, 2s} (scale s, zero point -1) when it does not,
// with the upper level 2s the Lloyd-Max fit (mean of the values above s).
QuantParams binary_quant(const RangeStats& stats, const Histogram& histogram);

// Whether binary_quant needs the histogram (a non-negative tensor).
bool binary_needs_histogram(const RangeStats& stats);

}  // namespace npusim
