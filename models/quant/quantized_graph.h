// A graph prepared for execution: weights in their weight format, activations
// quantized per tensor, biases and requantization multipliers precomputed.
// Every compute layer may have its own MacFormat (binary networks keep their
// first and last layers at 8 bits); `mac` is the default for layers without one.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "accel/formats/number_format.h"
#include "accel/formats/requantize.h"
#include "models/graph.h"
#include "models/tensor.h"

namespace npusim {

// How an integer-class conv2d / fc turns its int32 sum into the output.
enum class RequantMode {
  // gemmlowp / TFLite: q = zp_out + round(sum * M), M a FixedPointMultiplier
  // (QuantizedLayer::requant / channel_requant), rounding half away from zero.
  // What quantize_graph produces.
  fixed_point,
  // ONNX QLinearConv / QLinearMatMul as ONNX Runtime computes them (MLAS
  // requantization): q = saturate(round_half_even(float(sum) * m) + zp_out),
  // all in IEEE fp32: float(sum) is the int32 sum (after bias and the weight
  // zero-point term, saturated to int32) rounded to fp32, m is the fp32
  // multiplier QuantizedLayer::requant_float / channel_requant_float
  // (float_requant_multiplier: (float(s_x) * float(s_w)) / float(s_y), each
  // product and quotient rounded to fp32, in that order), the product is
  // rounded to fp32, then rounded to an integer half to even (nearbyint),
  // then zp_out is added and the result saturated to the output format
  // (after the fused activation, if any). Rounding before adding zp_out
  // matters: with an odd zero point, half-even parity differs.
  float_half_even,
};

struct QuantizedLayer {
  // conv2d / fc: the weights in the weight format, dims as in Layer::weights;
  // weights.quant holds the per-tensor scale or the per-channel scales.
  //
  // Integer-class weights are symmetric (zero point 0) when quantize_graph
  // made them. A graph imported from a quantized file (ONNX QLinearConv,
  // QLinearMatMul, ConvInteger, MatMulInteger) may give them a zero point:
  // weights.quant.zero_point (per tensor), or weights.quant.
  // channel_zero_points (one per output channel, overriding the per-tensor
  // one). int8 and int4 weights only (not binary). The array still runs the
  // plain integer GEMM of the stored values q_w; with input zero point zp_x
  // and weight zero point zp_w[n], over the K products of output (n, p),
  //
  //   sum_k (q_x - zp_x)(q_w - zp_w[n])
  //     = sum_k q_x q_w                 <- the array's GEMM
  //       - zp_x * sum_k q_w[k][n]      <- input-independent: in bias_int
  //       + K * zp_x * zp_w[n]          <- input-independent: in bias_int
  //       - zp_w[n] * sum_k q_x[k]      <- the row sum of output pixel p (padded
  //                                        positions count as zp_x), computed by
  //                                        the post-processing unit from the input
  //
  // fold_weight_terms (models/quant/layer_ops.h) computes the bias_int entries.
  Tensor weights;
  // Integer-class: what the post-processing unit adds to the array's plain
  // integer GEMM sum before requantizing, per output channel: the bias in
  // accumulator units round(bias / (s_in * s_w[n])), plus the input's
  // zero-point cross term -zp_in * sum_k q_w[k][n] (models/quant/quantize.cpp shows
  // the algebra), plus K * zp_in * zp_w[n] when the weights have a zero point
  // (above), minus the binarization threshold for binary outputs with a
  // zero point (see layer_ops.cpp). The PPU then subtracts zp_w[n] times the
  // output's row sum.
  std::vector<std::int32_t> bias_int;
  // Float-class: bias as fp32.
  std::vector<float> bias_float;
  // Integer-class activations: quantization of this layer's output tensor.
  QuantParams output_quant;
  // conv2d / fc, integer-class: s_in * s_w / s_out, per tensor...
  FixedPointMultiplier requant;
  // ...or per output channel, s_in * s_w[n] / s_out, when not empty.
  std::vector<FixedPointMultiplier> channel_requant;
  // conv2d / fc, integer-class, non-binary output: which rule requantizes.
  RequantMode requant_mode = RequantMode::fixed_point;
  // RequantMode::float_half_even: the fp32 multiplier per tensor...
  float requant_float = 0.0f;
  // ...or per output channel when not empty.
  std::vector<float> channel_requant_float;
  // add, integer-class: s_input_i / s_out for each input.
  std::array<FixedPointMultiplier, 2> add_requant{};
  // conv2d / fc: this layer's MacFormat; empty means QuantizedGraph::mac.
  std::optional<MacFormat> mac;
  // The format of this layer's output tensor; empty means the activation
  // format of QuantizedGraph::mac.
  std::optional<NumberFormat> output_format;
};

// How quantize_input rounds x / scale for an integer graph input.
enum class InputRounding {
  half_away_from_zero,  // npusim's calibrated graphs (double arithmetic)
  // ONNX QuantizeLinear: x / scale in fp32, rounded half to even. Imported
  // quantized files use it so that the first layer sees ONNX's integers.
  half_even_fp32,
};

// The rule the non-GEMM integer layers (add, concat rescale, average pool)
// follow; docs/numerics.md gives each formula.
enum class QuantArithmetic {
  // TFLite's integer pipeline: add shifts each q - zp left by 20 bits before
  // its fixed-point multiplier (s_i / 2 max(s_a, s_b)), sums, and rescales
  // the sum once by 2 max(s_a, s_b) / (2^20 s_out); a concat input in other
  // parameters is rescaled as TFLite's Requantize op does; average pooling
  // rounds sum / count half away from zero. What quantize_graph produces.
  tflite,
  // ONNX's QDQ definition, in fp32: each input dequantized
  // (float(q - zp) * float(s)), the op in fp32, the result quantized with
  // x / float(s_out) rounded half to even, plus zp_out, saturated (concat
  // rescale, average pool); add as ONNX Runtime's fused QLinearAdd computes
  // it (docs/numerics.md). What an imported quantized ONNX file uses.
  onnx,
};

// "tflite" or "onnx".
const char* to_string(QuantArithmetic arithmetic);

struct QuantizedGraph {
  Graph graph;
  QuantArithmetic arithmetic = QuantArithmetic::tflite;
  MacFormat mac;  // the default for every layer
  QuantParams input_quant;
  InputRounding input_rounding = InputRounding::half_away_from_zero;
  std::optional<NumberFormat> input_format;  // empty means mac.activation
  std::vector<QuantizedLayer> layers;        // parallel to graph.layers

  // The MacFormat compute layer `layer` runs in.
  MacFormat mac_of(std::size_t layer) const;
  // The format of layer `layer`'s output tensor.
  NumberFormat output_format_of(std::size_t layer) const;
  // The format of the graph's input tensor.
  NumberFormat graph_input_format() const;
};

bool same_mac_format(const MacFormat& a, const MacFormat& b);

// Layers whose output keeps its input's quantization (scale and zero point):
// they move, select or clamp values but never rescale them, so the
// post-processing unit does no requantization (maxpool, avgpool, relu, relu6,
// clip, flatten, reshape). The quantizer gives their outputs the input's
// parameters; a file that quantizes such an output differently is refused.
bool keeps_input_quantization(LayerType type);

}  // namespace npusim
