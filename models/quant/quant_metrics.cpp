#include "models/quant/quant_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "models/layer_weights.h"

namespace npusim {
namespace {

double ratio(std::int64_t part, std::int64_t whole) {
  return whole > 0 ? static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}

// min, max and histogram of finite values; all zero when there are none.
void describe(std::span<const float> values, double& min, double& max, Histogram& histogram) {
  bool any = false;
  for (const float v : values) {
    if (!std::isfinite(v)) continue;
    min = any ? std::min(min, double{v}) : v;
    max = any ? std::max(max, double{v}) : v;
    any = true;
  }
  if (!any) min = max = 0.0;
  histogram = Histogram(min, max, kMetricHistogramBins);
  for (const float v : values) {
    if (std::isfinite(v)) histogram.add(double{v});
  }
}

std::vector<double> as_doubles(const Tensor& fp32) { return std::vector<double>(fp32.f.begin(), fp32.f.end()); }

}  // namespace

std::vector<double> dequantize(const Tensor& tensor) {
  if (!is_integer_class(tensor.format)) return as_doubles(tensor);
  const QuantParams& quant = tensor.quant;
  const std::size_t channels = quant.channel_scales.size();
  const std::size_t per = channels > 0 ? tensor.q.size() / channels : 0;
  std::vector<double> real(tensor.q.size());
  for (std::size_t i = 0; i < real.size(); ++i) {
    const double scale = channels > 0 ? quant.channel_scales[std::min(i / per, channels - 1)] : quant.scale;
    real[i] = (tensor.q[i] - quant.zero_point) * scale;
  }
  return real;
}

double sqnr_db(std::span<const double> reference, std::span<const double> test) {
  if (reference.size() != test.size()) {
    throw std::invalid_argument("sqnr_db: " + std::to_string(reference.size()) + " reference values, " +
                                std::to_string(test.size()) + " test values");
  }
  double signal = 0.0, noise = 0.0;
  for (std::size_t i = 0; i < reference.size(); ++i) {
    const double error = reference[i] - test[i];
    signal += reference[i] * reference[i];
    noise += error * error;
  }
  if (noise == 0.0) return std::numeric_limits<double>::infinity();
  if (signal == 0.0) return -std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(signal / noise);
}

QuantMetrics quant_metrics(const QuantizedGraph& qgraph, std::span<const Tensor* const> outputs,
                           std::span<const Tensor> fp32_outputs) {
  const auto& layers = qgraph.graph.layers;
  if (outputs.size() != layers.size() || fp32_outputs.size() != layers.size()) {
    throw std::invalid_argument("quant_metrics: expected one quantized and one fp32 output per layer (" +
                                std::to_string(layers.size()) + ")");
  }
  QuantMetrics metrics;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const Layer& layer = layers[i];
    LayerQuantMetrics& m = metrics.layers.emplace_back();
    m.name = layer.name;
    m.has_weights = is_compute_layer(layer);
    if (m.has_weights) describe(layer.weights, m.weight_min, m.weight_max, m.weight_histogram);
    const Tensor& fp32 = fp32_outputs[i];
    if (fp32.format != NumberFormat::fp32 || fp32.f.size() != static_cast<std::size_t>(fp32.elements())) {
      throw std::invalid_argument("quant_metrics: the fp32 output of " + layer.name + " is not an fp32 tensor");
    }
    describe(fp32.f, m.act_min, m.act_max, m.act_histogram);
    if (outputs[i] == nullptr || outputs[i]->dims != fp32.dims) {
      throw std::invalid_argument("quant_metrics: the quantized output of " + layer.name +
                                  " is missing or differs in shape from the fp32 one");
    }
    m.sqnr_db = sqnr_db(as_doubles(fp32), dequantize(*outputs[i]));
  }
  metrics.network_sqnr_db = metrics.layers.empty() ? 0.0 : metrics.layers.back().sqnr_db;
  return metrics;
}

QuantMetrics quant_metrics(const QuantizedGraph& qgraph, std::span<const Tensor> outputs,
                           std::span<const Tensor> fp32_outputs) {
  std::vector<const Tensor*> pointers;
  for (const Tensor& t : outputs) pointers.push_back(&t);
  return quant_metrics(qgraph, pointers, fp32_outputs);
}

std::size_t top1_index(const Tensor& tensor) {
  const std::vector<double> values = dequantize(tensor);
  if (values.empty()) throw std::invalid_argument("top1_index: empty tensor");
  // NaN never wins: the comparison below is false for it.
  std::size_t best = 0;
  for (std::size_t i = 1; i < values.size(); ++i) {
    if (values[i] > values[best] || std::isnan(values[best])) best = i;
  }
  return best;
}

void Top1Tally::add(const Tensor& quantized_output, const Tensor& fp32_output, std::optional<std::size_t> label) {
  const std::size_t quantized = top1_index(quantized_output);
  const std::size_t fp32 = top1_index(fp32_output);
  ++samples_;
  agree_ += quantized == fp32 ? 1 : 0;
  if (label) {
    ++labeled_;
    correct_ += quantized == *label ? 1 : 0;
    fp32_correct_ += fp32 == *label ? 1 : 0;
  }
}

double Top1Tally::agreement() const { return ratio(agree_, samples_); }
double Top1Tally::accuracy() const { return ratio(correct_, labeled_); }
double Top1Tally::fp32_accuracy() const { return ratio(fp32_correct_, labeled_); }

}  // namespace npusim
