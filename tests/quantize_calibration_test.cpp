// Calibration on hand-made distributions: the range each method picks and the
// parameters a range gives.
#include "models/quant/calibration.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "models/seeded_random.h"

namespace npusim {
namespace {

struct Sample {
  RangeStats stats;
  Histogram histogram;
};

Sample sample_of(const std::vector<float>& values) {
  Sample s;
  s.stats.add(values);
  s.histogram = Histogram(s.stats.min, s.stats.max, kCalibrationBins);
  s.histogram.add(values);
  return s;
}

std::vector<float> uniform(int count, double lo, double hi, std::uint64_t seed) {
  SeededRandom random(seed);
  std::vector<float> v;
  for (int i = 0; i < count; ++i) v.push_back(random.uniform(lo, hi));
  return v;
}

// Laplace(0, 1): heavy tails relative to the bulk.
std::vector<float> laplace(int count, std::uint64_t seed) {
  SeededRandom random(seed);
  std::vector<float> v;
  for (int i = 0; i < count; ++i) {
    const double u = random.next_unit() - 0.5;
    v.push_back(static_cast<float>((u < 0 ? 1.0 : -1.0) * std::log(1.0 - 2.0 * std::fabs(u))));
  }
  return v;
}

TEST(RangeQuant, HandComputedParameters) {
  // [-1, 3]: 4 / 255, zero point -128 - round(-63.75) = -64.
  QuantParams q = range_quant({-1.0, 3.0}, NumberFormat::int8);
  EXPECT_DOUBLE_EQ(q.scale, 4.0 / 255);
  EXPECT_EQ(q.zero_point, -64);
  // [0, 2] (after ReLU): the zero point is the format's minimum.
  q = range_quant({0.0, 2.0}, NumberFormat::int8);
  EXPECT_DOUBLE_EQ(q.scale, 2.0 / 255);
  EXPECT_EQ(q.zero_point, -128);
  // [-2, -1] widens to [-2, 0] so that 0 stays exact: -128 - round(-255) = 127.
  q = range_quant({-2.0, -1.0}, NumberFormat::int8);
  EXPECT_DOUBLE_EQ(q.scale, 2.0 / 255);
  EXPECT_EQ(q.zero_point, 127);
  // int4 [-1, 3]: 4 / 15, zero point -8 - round(-3.75) = -4.
  q = range_quant({-1.0, 3.0}, NumberFormat::int4);
  EXPECT_DOUBLE_EQ(q.scale, 4.0 / 15);
  EXPECT_EQ(q.zero_point, -4);
  q = range_quant({0.0, 0.0}, NumberFormat::int8);
  EXPECT_EQ(q.scale, 1.0);
  EXPECT_EQ(q.zero_point, 0);
}

TEST(HistogramQuantile, InterpolatesWithinABin) {
  Histogram h(0.0, 4.0, 4);
  h.add(std::vector<float>{0.5f, 1.5f, 1.5f, 3.5f, 4.0f, -7.0f});  // 4 and -7 land in the end bins
  EXPECT_EQ(h.counts, (std::vector<std::int64_t>{2, 2, 0, 2}));
  EXPECT_DOUBLE_EQ(histogram_quantile(h, 0.5), 1.5);    // 3 of 6: bin 0 and half of bin 1
  EXPECT_DOUBLE_EQ(histogram_quantile(h, 0.25), 0.75);  // 1.5 of 6: three quarters into bin 0
  EXPECT_DOUBLE_EQ(histogram_quantile(h, 1.0), 4.0);
  EXPECT_DOUBLE_EQ(histogram_quantile(h, 0.0), 0.0);
}

TEST(Calibration, MinMaxIsExact) {
  const Sample s = sample_of({0.25f, -0.75f, 3.5f, 1.0f, -0.5f});
  const ClipRange r = choose_range(s.stats, s.histogram, CalibrationMethod::min_max, {}, NumberFormat::int8);
  EXPECT_EQ(r.lo, -0.75);
  EXPECT_EQ(r.hi, 3.5);
  EXPECT_EQ(s.stats.count, 5);
  EXPECT_EQ(s.stats.sum_abs, 6.0);
}

TEST(Calibration, NonFiniteValuesAreIgnored) {
  const float inf = std::numeric_limits<float>::infinity();
  RangeStats stats;
  stats.add(std::vector<float>{1.0f, inf, -2.0f, std::nanf("")});
  EXPECT_EQ(stats.count, 2);
  EXPECT_EQ(stats.min, -2.0);
  EXPECT_EQ(stats.max, 1.0);
}

TEST(Calibration, PercentileClipsAnOutlier) {
  std::vector<float> values = uniform(20000, 0.0, 1.0, 5);
  values.push_back(100.0f);
  const Sample s = sample_of(values);
  QuantizationOptions options;
  options.percentile = 99.99;
  const ClipRange r = choose_range(s.stats, s.histogram, CalibrationMethod::percentile, options, NumberFormat::int8);
  EXPECT_LT(r.hi, 1.1);  // not 100: the outlier is one value in 20001 (0.005 %)
  EXPECT_GT(r.hi, 0.9);
  EXPECT_GE(r.lo, 0.0);
  EXPECT_EQ(choose_range(s.stats, s.histogram, CalibrationMethod::min_max, options, NumberFormat::int8).hi, 100.0);
  // A symmetric sample keeps ~0.1 % at each end at 99.9.
  const Sample sym = sample_of(uniform(100000, -1.0, 1.0, 6));
  options.percentile = 99.9;
  const ClipRange both =
      choose_range(sym.stats, sym.histogram, CalibrationMethod::percentile, options, NumberFormat::int8);
  EXPECT_NEAR(both.lo, -0.998, 0.003);
  EXPECT_NEAR(both.hi, 0.998, 0.003);
}

TEST(Calibration, MinimumMseClipsHeavyTailsButNotAUniformSample) {
  // Laplace(0, 1), 50000 values: max |x| about 10. The MSE-optimal clipping
  // for Laplace(0, b) is about 9.9 b at 8 bits and 5.0 b at 4 bits (Banner
  // et al., ACIQ, 2019).
  const Sample heavy = sample_of(laplace(50000, 7));
  const ClipRange r8 = choose_range(heavy.stats, heavy.histogram, CalibrationMethod::mse, {}, NumberFormat::int8);
  const ClipRange r4 = choose_range(heavy.stats, heavy.histogram, CalibrationMethod::mse, {}, NumberFormat::int4);
  EXPECT_LT(r8.hi, 0.95 * heavy.stats.max);
  EXPECT_GT(r8.lo, 0.95 * heavy.stats.min);
  EXPECT_LT(r4.hi, 0.6 * heavy.stats.max);
  EXPECT_GT(r4.lo, 0.6 * heavy.stats.min);
  EXPECT_GT(r4.hi, 4.0);
  EXPECT_LT(r4.hi, 6.0);
  for (const auto& [r, format] : {std::pair{r8, NumberFormat::int8}, std::pair{r4, NumberFormat::int4}}) {
    // The clipped range does quantize the sample with less error than min/max.
    const double clipped = quantization_mse(heavy.histogram, range_quant(r, format), format);
    const double full =
        quantization_mse(heavy.histogram, range_quant({heavy.stats.min, heavy.stats.max}, format), format);
    EXPECT_LT(clipped, 0.9 * full) << to_string(format);
  }
  const Sample flat = sample_of(uniform(50000, -1.0, 1.0, 8));
  const ClipRange u = choose_range(flat.stats, flat.histogram, CalibrationMethod::mse, {}, NumberFormat::int8);
  EXPECT_GT(u.hi, 0.97);
  EXPECT_LT(u.lo, -0.97);
}

TEST(BinaryCalibration, SignedTensorsUseMeanMagnitude) {
  const Sample s = sample_of({-1.0f, 0.5f, 0.25f, -0.25f});
  const QuantParams q = binary_quant(s.stats, s.histogram);
  EXPECT_EQ(q.scale, 0.5);
  EXPECT_EQ(q.zero_point, 0);
}

TEST(BinaryCalibration, NonNegativeTensorsFitLevelsZeroAndC) {
  // Uniform [0, 1]: the Lloyd-Max fixed point c = mean of U[c/2, 1] = (c/2 + 1)/2 is c = 2/3.
  const Sample u = sample_of(uniform(100000, 0.0, 1.0, 9));
  const QuantParams q = binary_quant(u.stats, u.histogram);
  EXPECT_EQ(q.zero_point, -1);
  EXPECT_NEAR(2 * q.scale, 2.0 / 3, 0.005);
  // Two clusters, at 0 and 2: c = 2.
  std::vector<float> clusters(500, 0.0f);
  for (float v : uniform(500, 1.9, 2.1, 10)) clusters.push_back(v);
  const Sample c = sample_of(clusters);
  EXPECT_NEAR(binary_quant(c.stats, c.histogram).scale, 1.0, 0.01);
  RangeStats empty;
  EXPECT_EQ(binary_quant(empty, {}).scale, 1.0);
}

}  // namespace
}  // namespace npusim
