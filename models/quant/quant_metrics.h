// What quantization costs in accuracy: per layer, the dynamic range and
// histogram of the fp32 weights and activations and the SQNR of the quantized
// layer output against the fp32 golden run of the same input; the network
// output's SQNR; top-1 agreement with fp32 and, given labels, top-1 accuracy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "models/quant/histogram.h"
#include "models/quant/quantized_graph.h"
#include "models/tensor.h"

namespace npusim {

inline constexpr int kMetricHistogramBins = 64;

struct LayerQuantMetrics {
  std::string name;
  bool has_weights = false;  // conv2d and fc
  // The fp32 master weights (zeros and an empty histogram without weights).
  double weight_min = 0.0;
  double weight_max = 0.0;
  Histogram weight_histogram;  // kMetricHistogramBins over [weight_min, weight_max]
  // The layer's fp32 golden output.
  double act_min = 0.0;
  double act_max = 0.0;
  Histogram act_histogram;  // kMetricHistogramBins over [act_min, act_max]
  // Dequantized quantized output against the fp32 output, in dB (sqnr_db()).
  double sqnr_db = 0.0;
};

struct QuantMetrics {
  std::vector<LayerQuantMetrics> layers;  // parallel to the graph's layers
  double network_sqnr_db = 0.0;           // the last layer's output
};

// real = (q - zero_point) * scale (per channel along axis 0 when the tensor
// has channel scales); float-class values as they are.
std::vector<double> dequantize(const Tensor& tensor);

// 10 log10(sum x^2 / sum (x - x_hat)^2) of `test` against `reference`:
// +infinity when they are equal (no noise), -infinity for noise over a zero
// signal. Throws std::invalid_argument when the lengths differ.
double sqnr_db(std::span<const double> reference, std::span<const double> test);

// `outputs`: the quantized run's output per layer (the simulator's or the
// reference executor's); `fp32_outputs`: the golden run's (Fp32Executor) for
// the same input. Throws std::invalid_argument when the counts or sizes do not
// match the graph.
QuantMetrics quant_metrics(const QuantizedGraph& qgraph, std::span<const Tensor* const> outputs,
                           std::span<const Tensor> fp32_outputs);
QuantMetrics quant_metrics(const QuantizedGraph& qgraph, std::span<const Tensor> outputs,
                           std::span<const Tensor> fp32_outputs);

// Index of the largest dequantized value (the first on ties).
std::size_t top1_index(const Tensor& tensor);

// Top-1 over a set of inputs: agreement of the quantized network's top-1
// with fp32's, and accuracy against labels where they are given.
class Top1Tally {
 public:
  void add(const Tensor& quantized_output, const Tensor& fp32_output, std::optional<std::size_t> label = std::nullopt);
  std::int64_t samples() const { return samples_; }
  std::int64_t labeled() const { return labeled_; }
  double agreement() const;      // in [0, 1]; 0 without samples
  double accuracy() const;       // quantized top-1 == label, over labeled samples
  double fp32_accuracy() const;  // fp32 top-1 == label, over labeled samples

 private:
  std::int64_t samples_ = 0;
  std::int64_t agree_ = 0;
  std::int64_t labeled_ = 0;
  std::int64_t correct_ = 0;
  std::int64_t fp32_correct_ = 0;
};

}  // namespace npusim
