// The network IR: a DAG of layers in topological order, with fp32 master weights.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace npusim {

enum class LayerType {
  conv2d,
  fc,
  maxpool,
  avgpool,
  add,
  relu,
  relu6,
  concat,   // joins its inputs along `axis` of {C, H, W}; any number of inputs
  softmax,  // along `axis` of {C, H, W}
  flatten,  // {C, H, W} -> {C*H*W, 1, 1}; data unchanged (row-major)
  reshape,  // to output_dims (same element count); data unchanged (row-major)
  clip,     // clamp to [clip.min, clip.max]
  // A stored tensor: no inputs; output_dims {C, H, W}; the fp32 values,
  // row-major, in Layer::weights (quantized: QuantizedLayer::weights holds
  // them in the output format, quantized per tensor from their own min/max).
  constant,
  // Per-channel affine: out[c, h, w] = in[c, h, w] * weights[c] + bias[c],
  // C = output_dims[0] entries each (a BatchNormalization that folds into no
  // conv2d / fc). Runs on the post-processing unit.
  scale,
  sigmoid,       // 1 / (1 + exp(-x))
  hard_sigmoid,  // max(0, min(1, hard_sigmoid.alpha * x + hard_sigmoid.beta))
  // inputs[0] * inputs[1]; inputs[1] of the same dims, or {C, 1, 1}: one
  // factor per channel (squeeze-and-excite).
  mul,
  tanh,
  // x * Phi(x). gelu.tanh_approximation false: (x * (erf(x / sqrt 2) + 1)) * 0.5
  // (torch's Erf form); true: 0.5 * (x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))).
  gelu,
  leaky_relu,   // x >= 0 ? x : alpha * x
  prelu,        // x >= 0 ? x : weights[c] * x (one slope per channel, C = output_dims[0])
  hard_swish,   // x * max(0, min(1, x / 6 + 0.5))
  log_softmax,  // x - max - log(sum(exp(x - max))) along `axis` of {C, H, W}
  sub,          // inputs[0] - inputs[1], inputs[1] as for mul
  div,          // inputs[0] / inputs[1], inputs[1] as for mul
  // reduce.op (sum, max, mean) along `axis` of {C, H, W}: that axis becomes 1.
  reduce,
  // Permutes the {C, H, W} axes: output axis a is input axis perm[a] (so
  // output_dims[a] = input dims[perm[a]]); a channel shuffle is perm {1, 0, 2}
  // of {groups, C / groups, H * W}.
  transpose,
  slice,  // elements [slice.begin, slice.end) along `axis` of {C, H, W}
};

// The layer type's name in reports and network JSON ("conv2d", "fc", ...).
std::string_view to_string(LayerType type);

enum class Activation { none, relu, relu6 };

struct Conv2dParams {
  std::int64_t out_channels = 0;
  int kernel_h = 1, kernel_w = 1;
  int stride_h = 1, stride_w = 1;
  int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int dilation_h = 1, dilation_w = 1;
  int groups = 1;
};

struct FcParams {
  std::int64_t out_features = 0;  // input is flattened C*H*W in that order
};

struct PoolParams {
  bool global = false;  // kernel = whole input plane
  int kernel_h = 1, kernel_w = 1;
  int stride_h = 1, stride_w = 1;
  int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  // Average pooling divides by the number of in-bounds elements (padding excluded).
};

struct ClipParams {
  float min = -3.402823466e38f;  // -FLT_MAX: no lower bound
  float max = 3.402823466e38f;
};

struct HardSigmoidParams {
  float alpha = 0.2f, beta = 0.5f;  // ONNX's defaults
};

struct GeluParams {
  bool tanh_approximation = false;
};

enum class ReduceOp { sum, max, mean };
struct ReduceParams {
  ReduceOp op = ReduceOp::sum;
};

struct SliceParams {
  std::int64_t begin = 0, end = 0;  // along Layer::axis, end exclusive
};

struct Layer {
  std::string name;
  LayerType type = LayerType::conv2d;
  std::vector<std::string>
      inputs;  // layer names or the graph input's name; add and mul have two, concat any, constant none
  Conv2dParams conv;
  FcParams fc;
  PoolParams pool;
  ClipParams clip;
  HardSigmoidParams hard_sigmoid;
  GeluParams gelu;
  ReduceParams reduce;
  SliceParams slice;
  float alpha = 0.01f;                       // leaky_relu's slope (ONNX's default)
  std::vector<int> perm;                     // transpose: 3 entries
  int axis = 0;                              // concat, softmax, log_softmax, reduce, slice: 0 = C, 1 = H, 2 = W
  Activation activation = Activation::none;  // fused after conv2d, fc and add
  bool has_bias = false;
  std::vector<std::int64_t> output_dims;  // {C, H, W}; fc gives {N, 1, 1}
  // fp32 master parameters. conv2d: {N, C/groups, R, S} row-major; fc: {N, K};
  // constant: its C*H*W values, row-major; scale: the C multipliers (bias: the C addends);
  // prelu: the C slopes.
  std::vector<float> weights;
  std::vector<float> bias;  // N entries when has_bias
};

struct Graph {
  std::string name;
  std::string input_name = "input";
  std::vector<std::int64_t> input_dims;  // {C, H, W}
  std::vector<Layer> layers;             // topological order; the last is the output
  std::uint64_t seed = 1;                // seeds weights and the sample input

  // Multiply-accumulates one inference performs (conv2d and fc only).
  std::int64_t total_macs() const;
};

// MACs of one layer (0 for layers that do not run on the MAC array).
std::int64_t layer_macs(const Layer& layer, const std::vector<std::int64_t>& input_dims);

}  // namespace npusim
