#include "models/reference/reference_executor.h"

#include <algorithm>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "accel/formats/float_formats.h"
#include "models/reference/reference_ops.h"

namespace npusim {
namespace {

// The accumulation contract of docs/numerics.md, restated here rather than
// taken from accel/array/mac_arithmetic.h: an int32 partial sum overflows
// outside [-2^31, 2^31) and wraps as two's complement; a float addition is
// rounded to the accumulator format.
bool outside_int32(std::int64_t v) { return v < -(std::int64_t{1} << 31) || v >= (std::int64_t{1} << 31); }
std::int32_t wrap_to_int32(std::int64_t v) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(static_cast<std::uint64_t>(v)));
}
float accumulate_float(float sum, float addend, AccumulatorFormat acc) {
  const float r = sum + addend;
  return acc == AccumulatorFormat::fp16 ? round_to_format(r, NumberFormat::fp16) : r;
}

// The accumulations of a set of outputs (the pixels of one conv filter, or one
// fc output), each in the order of accel/array/mac_arithmetic.h: products summed
// into s within a chunk, chunk sums added into acc. Kept as arrays and
// updated a row of pixels at a time, which keeps ResNet-18 to a few seconds;
// every pixel's own sequence of operations is exactly the documented one.
class IntSums {
 public:
  using Operand = std::int8_t;
  using Result = std::int32_t;

  explicit IntSums(std::size_t count) : s_(count), acc_(count), overflow_(count), row_(count) {}
  void reset() {
    std::fill(s_.begin(), s_.end(), 0);
    std::fill(acc_.begin(), acc_.end(), 0);
    std::fill(overflow_.begin(), overflow_.end(), 0);
  }
  void add(std::size_t i, Operand a, Operand w) { add_row(i, &a, 0, 1, w); }
  // Pixels [first, first + count) each add x[j * stride] * w.
  void add_row(std::size_t first, const Operand* x, std::int64_t stride, std::int64_t count, Operand w) {
    // Widening the row first lets the main loop work on int32 lanes (with
    // int8 loads compilers only vectorize rows of 64 or more).
    std::int32_t* __restrict a = row_.data();
    for (std::int64_t j = 0; j < count; ++j) a[j] = x[j * stride];
    std::int64_t* __restrict s = s_.data() + first;
    std::int32_t* __restrict overflow = overflow_.data() + first;
    const std::int32_t weight = w;
    for (std::int64_t j = 0; j < count; ++j) {
      s[j] += a[j] * weight;
      overflow[j] |= outside_int32(s[j]) ? 1 : 0;
    }
  }
  void end_chunk() {
    for (std::size_t i = 0; i < s_.size(); ++i) {
      acc_[i] += s_[i];
      overflow_[i] |= outside_int32(acc_[i]) ? 1 : 0;
      s_[i] = 0;
    }
  }
  Result result(std::size_t i) const { return wrap_to_int32(acc_[i]); }
  bool overflowed(std::size_t i) const { return overflow_[i] != 0; }

 private:
  std::vector<std::int64_t> s_;
  std::vector<std::int64_t> acc_;
  std::vector<std::int32_t> overflow_;  // not a char type, which would alias s_ and acc_
  std::vector<std::int32_t> row_;
};

class FloatSums {
 public:
  using Operand = float;
  using Result = float;

  FloatSums(std::size_t count, AccumulatorFormat format) : format_(format), s_(count), acc_(count) {}
  void reset() {
    std::fill(s_.begin(), s_.end(), 0.0f);
    std::fill(acc_.begin(), acc_.end(), 0.0f);
  }
  // The product is rounded to fp32 (exact for fp16 and bf16 operands).
  void add(std::size_t i, Operand a, Operand w) { add_row(i, &a, 0, 1, w); }
  // Pixels [first, first + count) each add x[j * stride] * w.
  void add_row(std::size_t first, const Operand* x, std::int64_t stride, std::int64_t count, Operand w) {
    float* __restrict s = s_.data() + first;
    if (stride == 1) {  // the loop compilers vectorize
      for (std::int64_t j = 0; j < count; ++j) s[j] = accumulate_float(s[j], x[j] * w, format_);
    } else {
      for (std::int64_t j = 0; j < count; ++j) s[j] = accumulate_float(s[j], x[j * stride] * w, format_);
    }
  }
  void end_chunk() {
    for (std::size_t i = 0; i < s_.size(); ++i) {
      acc_[i] = accumulate_float(acc_[i], s_[i], format_);
      s_[i] = 0.0f;
    }
  }
  Result result(std::size_t i) const { return acc_[i]; }
  bool overflowed(std::size_t) const { return false; }

 private:
  AccumulatorFormat format_;
  std::vector<float> s_;
  std::vector<float> acc_;
};

// Output columns [begin, end) whose input column ox * stride + offset lies
// inside [0, width); the same for every output row.
std::pair<std::int64_t, std::int64_t> inside_columns(std::int64_t out_w, std::int64_t width, std::int64_t stride,
                                                     std::int64_t offset) {
  std::int64_t begin = 0;
  while (begin < out_w && begin * stride + offset < 0) ++begin;
  std::int64_t end = begin;
  while (end < out_w && end * stride + offset < width) ++end;
  return {begin, end};
}

// Accumulators {N, OH, OW} of a conv2d. Every output (n, oy, ox) reduces over
// k = (c within the group, r, s), c outermost; a padded position is the
// activation `pad` (the input's zero point, a real 0) and takes its k slot.
// The pixels of one filter step through k together (pixel loop innermost).
template <typename Sums>
std::int64_t conv_accumulators(const Layer& layer, const std::vector<std::int64_t>& in_dims,
                               const std::vector<typename Sums::Operand>& x,
                               const std::vector<typename Sums::Operand>& w, typename Sums::Operand pad,
                               std::int64_t chunk, Sums& sums, std::vector<typename Sums::Result>& acc) {
  using T = typename Sums::Operand;
  const Conv2dParams& c = layer.conv;
  const std::int64_t height = in_dims[1], width = in_dims[2];
  const std::int64_t n_out = c.out_channels, out_h = layer.output_dims[1], out_w = layer.output_dims[2];
  const std::int64_t group_channels = in_dims[0] / c.groups;
  const std::int64_t group_filters = n_out / c.groups;
  const std::int64_t k_len = group_channels * c.kernel_h * c.kernel_w;
  if (static_cast<std::int64_t>(w.size()) != n_out * k_len) {
    throw std::invalid_argument("layer " + layer.name + ": weight tensor does not match the layer");
  }
  const auto pixels = static_cast<std::size_t>(out_h * out_w);
  acc.resize(static_cast<std::size_t>(n_out) * pixels);
  std::int64_t overflows = 0;
  for (std::int64_t n = 0; n < n_out; ++n) {
    sums.reset();
    const std::int64_t first_channel = n / group_filters * group_channels;
    const T* w_k = w.data() + n * k_len;
    std::int64_t in_chunk = 0;
    for (std::int64_t cg = 0; cg < group_channels; ++cg) {
      const T* x_c = x.data() + (first_channel + cg) * height * width;
      for (int r = 0; r < c.kernel_h; ++r) {
        for (int s = 0; s < c.kernel_w; ++s, ++w_k) {
          const T weight = *w_k;
          const std::int64_t column_offset = std::int64_t{s} * c.dilation_w - c.pad_left;
          const auto [ox_begin, ox_end] = inside_columns(out_w, width, c.stride_w, column_offset);
          for (std::int64_t oy = 0; oy < out_h; ++oy) {
            const auto row = static_cast<std::size_t>(oy * out_w);
            const std::int64_t iy = oy * c.stride_h - c.pad_top + std::int64_t{r} * c.dilation_h;
            const bool row_inside = iy >= 0 && iy < height;
            const std::int64_t begin = row_inside ? ox_begin : out_w;
            const std::int64_t end = row_inside ? ox_end : out_w;
            for (std::int64_t ox = 0; ox < begin; ++ox) sums.add(row + ox, pad, weight);
            if (begin < end) {
              const T* x_row = x_c + iy * width + column_offset;
              sums.add_row(row + begin, x_row + begin * c.stride_w, c.stride_w, end - begin, weight);
            }
            for (std::int64_t ox = end; ox < out_w; ++ox) sums.add(row + ox, pad, weight);
          }
          if (++in_chunk == chunk) {
            sums.end_chunk();
            in_chunk = 0;
          }
        }
      }
    }
    if (in_chunk > 0) sums.end_chunk();
    auto* acc_n = acc.data() + static_cast<std::size_t>(n) * pixels;
    for (std::size_t p = 0; p < pixels; ++p) {
      acc_n[p] = sums.result(p);
      overflows += sums.overflowed(p) ? 1 : 0;
    }
  }
  return overflows;
}

// Accumulators {N} of an fc layer over the flattened (C, H, W) input; `sums`
// holds one output.
template <typename Sums>
std::int64_t fc_accumulators(const Layer& layer, const std::vector<typename Sums::Operand>& x,
                             const std::vector<typename Sums::Operand>& w, std::int64_t chunk, Sums& sums,
                             std::vector<typename Sums::Result>& acc) {
  const std::int64_t n_out = layer.fc.out_features;
  const auto k_len = static_cast<std::int64_t>(x.size());
  if (static_cast<std::int64_t>(w.size()) != n_out * k_len) {
    throw std::invalid_argument("layer " + layer.name + ": weight tensor does not match the layer");
  }
  acc.resize(static_cast<std::size_t>(n_out));
  std::int64_t overflows = 0;
  for (std::int64_t n = 0; n < n_out; ++n) {
    sums.reset();
    const auto* w_n = w.data() + n * k_len;
    std::int64_t in_chunk = 0;
    for (std::int64_t k = 0; k < k_len; ++k) {
      sums.add(0, x[static_cast<std::size_t>(k)], w_n[k]);
      if (++in_chunk == chunk) {
        sums.end_chunk();
        in_chunk = 0;
      }
    }
    if (in_chunk > 0) sums.end_chunk();
    acc[static_cast<std::size_t>(n)] = sums.result(0);
    overflows += sums.overflowed(0) ? 1 : 0;
  }
  return overflows;
}

// Accumulators of a conv2d or fc layer and the number of overflowed outputs.
template <typename Sums>
std::int64_t accumulators(const Layer& layer, const Tensor& in, const std::vector<typename Sums::Operand>& x,
                          const std::vector<typename Sums::Operand>& w, typename Sums::Operand pad, std::int64_t chunk,
                          Sums sums_of_one, Sums sums_of_plane, std::vector<typename Sums::Result>& acc) {
  if (layer.type == LayerType::conv2d) {
    return conv_accumulators(layer, in.dims, x, w, pad, chunk, sums_of_plane, acc);
  }
  return fc_accumulators(layer, x, w, chunk, sums_of_one, acc);
}

// Integer conv2d / fc whose weights have zero points: the full sums
// sum_k (q_x - zp_x)(q_w - zp_w[n]) + bias in accumulator units, {N, OH, OW},
// straight from the definition (nested loops over the layer, padded positions
// contributing nothing), independent of the row-sum decomposition the
// post-processing unit uses. The bias in accumulator units is bias_int without
// its input-independent terms (models/quant/quantized_graph.h):
// bias_int[n] + zp_x * sum_k q_w[k][n] - K * zp_x * zp_w[n].
std::vector<std::int64_t> zero_point_sums(const Layer& layer, const Tensor& in, const Tensor& weights,
                                          const std::vector<std::int32_t>& bias_int) {
  const std::int64_t zp_x = in.quant.zero_point;
  const std::int64_t n_out = layer.output_dims[0], out_h = layer.output_dims[1], out_w = layer.output_dims[2];
  const auto k_len = static_cast<std::int64_t>(weights.q.size()) / n_out;
  if (!weights.quant.channel_zero_points.empty() &&
      static_cast<std::int64_t>(weights.quant.channel_zero_points.size()) != n_out) {
    throw std::invalid_argument("run_reference: " + layer.name + " needs one weight zero point per output channel");
  }
  std::vector<std::int64_t> sums(static_cast<std::size_t>(n_out * out_h * out_w));
  for (std::int64_t n = 0; n < n_out; ++n) {
    const std::int64_t zp_w = weights.quant.zero_point_of(static_cast<std::size_t>(n));
    const std::int8_t* w = weights.q.data() + n * k_len;
    std::int64_t weight_sum = 0;
    for (std::int64_t k = 0; k < k_len; ++k) weight_sum += w[k];
    const std::int64_t bias =
        (bias_int.empty() ? 0 : bias_int[static_cast<std::size_t>(n)]) + zp_x * weight_sum - k_len * zp_x * zp_w;
    for (std::int64_t oy = 0; oy < out_h; ++oy) {
      for (std::int64_t ox = 0; ox < out_w; ++ox) {
        std::int64_t d = 0;
        if (layer.type == LayerType::fc) {
          for (std::int64_t k = 0; k < k_len; ++k) d += (in.q[static_cast<std::size_t>(k)] - zp_x) * (w[k] - zp_w);
        } else {
          const Conv2dParams& c = layer.conv;
          const std::int64_t group_channels = in.dims[0] / c.groups;
          const std::int64_t first_channel = n / (n_out / c.groups) * group_channels;
          std::int64_t k = 0;
          for (std::int64_t cg = 0; cg < group_channels; ++cg) {
            for (int r = 0; r < c.kernel_h; ++r) {
              for (int s = 0; s < c.kernel_w; ++s, ++k) {
                const std::int64_t iy = oy * c.stride_h - c.pad_top + std::int64_t{r} * c.dilation_h;
                const std::int64_t ix = ox * c.stride_w - c.pad_left + std::int64_t{s} * c.dilation_w;
                if (iy < 0 || iy >= in.dims[1] || ix < 0 || ix >= in.dims[2]) continue;  // (zp_x - zp_x) = 0
                const std::int64_t x =
                    in.q[static_cast<std::size_t>(((first_channel + cg) * in.dims[1] + iy) * in.dims[2] + ix)];
                d += (x - zp_x) * (w[k] - zp_w);
              }
            }
          }
        }
        sums[static_cast<std::size_t>((n * out_h + oy) * out_w + ox)] = d + bias;
      }
    }
  }
  return sums;
}

bool has_zero_points(const QuantParams& quant) {
  if (quant.channel_zero_points.empty()) return quant.zero_point != 0;
  for (const auto zp : quant.channel_zero_points) {
    if (zp != 0) return true;
  }
  return false;
}

void check_tensor(const Tensor& t, const std::vector<std::int64_t>& dims, NumberFormat format,
                  const std::string& what) {
  const auto n = static_cast<std::size_t>(t.elements());
  const bool sized = is_integer_class(format) ? t.q.size() == n : t.f.size() == n;
  if (t.dims != dims || t.format != format || !sized) {
    throw std::invalid_argument("run_reference: " + what + " does not match the graph");
  }
}

}  // namespace

ReferenceResult run_reference(const QuantizedGraph& qgraph, const Tensor& input, std::int64_t reduction_chunk) {
  const Graph& graph = qgraph.graph;
  check_tensor(input, graph.input_dims, qgraph.graph_input_format(), "the input tensor");
  if (qgraph.layers.size() != graph.layers.size()) {
    throw std::invalid_argument("run_reference: QuantizedGraph::layers does not parallel the graph");
  }
  ReferenceResult result;
  result.outputs.reserve(graph.layers.size());
  std::map<std::string, const Tensor*> tensors{{graph.input_name, &input}};
  for (std::size_t i = 0; i < graph.layers.size(); ++i) {
    const Layer& layer = graph.layers[i];
    std::vector<const Tensor*> inputs;
    for (const auto& name : layer.inputs) inputs.push_back(tensors.at(name));
    std::int64_t overflows = 0;
    if (layer.type == LayerType::conv2d || layer.type == LayerType::fc) {
      const Tensor& in = *inputs[0];
      const Tensor& weights = qgraph.layers[i].weights;
      const MacFormat mac = qgraph.mac_of(i);
      if (weights.format != mac.weight) {
        throw std::invalid_argument("run_reference: weights of " + layer.name + " are not in the weight format");
      }
      if (in.format != mac.activation) {
        throw std::invalid_argument("run_reference: the input of " + layer.name + " is not in its activation format");
      }
      const std::int64_t k_len = layer.type == LayerType::fc
                                     ? in.elements()
                                     : in.dims[0] / layer.conv.groups * layer.conv.kernel_h * layer.conv.kernel_w;
      const std::int64_t chunk = reduction_chunk > 0 ? reduction_chunk : k_len;
      const auto pixels = static_cast<std::size_t>(layer.output_dims[1] * layer.output_dims[2]);
      if (mac.integer()) {
        std::vector<std::int32_t> acc;
        const auto pad = static_cast<std::int8_t>(in.quant.zero_point);
        overflows = accumulators(layer, in, in.q, weights.q, pad, chunk, IntSums(1), IntSums(pixels), acc);
        if (has_zero_points(weights.quant)) {
          // The plain sums above still count int32 overflows of the array's
          // GEMM; the outputs come from the definition.
          const auto sums = zero_point_sums(layer, in, weights, qgraph.layers[i].bias_int);
          result.outputs.push_back(reference::requantize_sums(qgraph, i, sums));
        } else {
          const auto& bias = qgraph.layers[i].bias_int;
          std::vector<std::int64_t> sums(acc.size());
          for (std::size_t j = 0; j < acc.size(); ++j) {
            sums[j] = std::int64_t{acc[j]} + (bias.empty() ? 0 : bias.at(j / pixels));
          }
          result.outputs.push_back(reference::requantize_sums(qgraph, i, sums));
        }
      } else {
        std::vector<float> acc;
        overflows = accumulators(layer, in, in.f, weights.f, 0.0f, chunk, FloatSums(1, mac.accumulator),
                                 FloatSums(pixels, mac.accumulator), acc);
        result.outputs.push_back(reference::finish_float_sums(qgraph, i, acc));
      }
    } else {
      result.outputs.push_back(reference::run_other_layer(qgraph, i, inputs));
    }
    result.overflow_outputs.push_back(overflows);
    tensors[layer.name] = &result.outputs.back();
  }
  return result;
}

}  // namespace npusim
