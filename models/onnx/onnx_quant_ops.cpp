#include <algorithm>
#include <cmath>
#include <set>
#include <utility>

#include "models/input_error.h"
#include "models/onnx/onnx_builder.h"
#include "models/onnx/onnx_proto.h"

// QuantizeLinear / DequantizeLinear (QDQ graphs and the edges of QOperator
// graphs) and the QOperator ops. Integers are kept in the IR's int8 terms:
// uint8 values and zero points are shifted by -128, which changes no real value.

namespace npusim {
namespace {

constexpr int kFloat = static_cast<int>(OnnxElementType::float32);
constexpr int kUint8 = static_cast<int>(OnnxElementType::uint8);
constexpr int kInt8 = static_cast<int>(OnnxElementType::int8);
constexpr int kInt32 = static_cast<int>(OnnxElementType::int32);

std::int32_t to_int8_terms(std::int64_t v, int data_type) {
  return static_cast<std::int32_t>(data_type == kUint8 ? v - 128 : v);
}

// Scales of a quantization parameter input: positive and finite.
std::vector<double> read_scales(const OnnxBuilder& b, const onnx::NodeProto& node, int index, const std::string& what) {
  const OnnxTensor& t = b.constant_input(node, index, what);
  if (!t.is_float() || t.elements() < 1) throw InputError(b.where(node) + what + ": expected FLOAT values");
  std::vector<double> scales;
  for (std::size_t j = 0; j < t.f.size(); ++j) {
    const double s = t.f[j];
    if (!(s > 0.0) || !std::isfinite(s)) {
      throw InputError(b.where(node) + what + ": zero, negative or non-finite scale " + std::to_string(s) + " (entry " +
                       std::to_string(j) + "); expected a positive scale");
    }
    scales.push_back(s);
  }
  return scales;
}

struct ZeroPoints {
  int data_type = kUint8;
  std::vector<std::int64_t> values;  // as in the file
};

// Zero points of a quantization parameter input, checked against the range of
// their type; absent: `count` zeros of `fallback_type`.
ZeroPoints read_zero_points(const OnnxBuilder& b, const onnx::NodeProto& node, int index, const std::string& what,
                            int fallback_type, std::size_t count) {
  ZeroPoints zp;
  if (!b.has_input(node, index)) {
    zp.data_type = fallback_type;
    zp.values.assign(count, 0);
    return zp;
  }
  const OnnxTensor& t = b.constant_input(node, index, what);
  zp.data_type = t.data_type;
  if (t.data_type != kUint8 && t.data_type != kInt8 && t.data_type != kInt32) {
    throw InputError(b.where(node) + what + ": element type " + onnx_type_name(t.data_type) +
                     " is not supported (expected UINT8 or INT8)");
  }
  const std::int64_t lo = t.data_type == kUint8 ? 0 : t.data_type == kInt8 ? -128 : INT32_MIN;
  const std::int64_t hi = t.data_type == kUint8 ? 255 : t.data_type == kInt8 ? 127 : INT32_MAX;
  for (std::size_t j = 0; j < t.i.size(); ++j) {
    if (t.i[j] < lo || t.i[j] > hi) {
      throw InputError(b.where(node) + what + ": zero point " + std::to_string(t.i[j]) + " is outside the " +
                       onnx_type_name(t.data_type) + " range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    }
  }
  zp.values = t.i;
  return zp;
}

OnnxQuant tensor_quant(const OnnxBuilder& b, const onnx::NodeProto& node, const std::vector<double>& scales,
                       const ZeroPoints& zp, const std::string& what) {
  if (scales.size() != 1 || zp.values.size() != 1) {
    throw OnnxUnsupported(what +
                          ": per-axis quantization of an activation tensor is not supported (npusim "
                          "quantizes activations per tensor)");
  }
  if (zp.data_type != kUint8 && zp.data_type != kInt8) {
    throw InputError(b.where(node) + what + ": expected a UINT8 or INT8 zero point");
  }
  return {scales[0], to_int8_terms(zp.values[0], zp.data_type)};
}

const OnnxValue& integer_input(const OnnxBuilder& b, const onnx::NodeProto& node, int index) {
  const OnnxValue& v = b.runtime_input(node, index);
  if (v.view != OnnxView::integer || (v.data_type != kUint8 && v.data_type != kInt8)) {
    throw OnnxUnsupported("input " + std::to_string(index) + " is " + onnx_type_name(v.data_type) +
                          (v.view == OnnxView::accumulator ? " accumulators" : "") +
                          "; expected a UINT8 or INT8 tensor");
  }
  return v;
}

OnnxQuant read_tensor_quant(const OnnxBuilder& b, const onnx::NodeProto& node, int scale_index, int zp_index,
                            const std::string& name, int fallback_type) {
  const auto scales = read_scales(b, node, scale_index, name + "_scale");
  const auto zp = read_zero_points(b, node, zp_index, name + "_zero_point", fallback_type, scales.size());
  return tensor_quant(b, node, scales, zp, name);
}

// An integer weight constant with its scales and zero points.
struct IntegerWeights {
  const OnnxTensor* tensor = nullptr;
  std::vector<double> scales;             // 1 or one per output channel
  std::vector<std::int64_t> zero_points;  // as in the file, same count
};

IntegerWeights read_integer_weights(const OnnxBuilder& b, const onnx::NodeProto& node, int w_index, int scale_index,
                                    int zp_index, std::int64_t channels, const std::string& name,
                                    bool scales_required) {
  IntegerWeights w;
  w.tensor = &b.constant_input(node, w_index, name);
  if (w.tensor->data_type != kUint8 && w.tensor->data_type != kInt8) {
    throw InputError(b.where(node) + name + ": expected UINT8 or INT8 values, got " +
                     onnx_type_name(w.tensor->data_type));
  }
  w.scales = scales_required ? read_scales(b, node, scale_index, name + "_scale") : std::vector<double>{1.0};
  const std::size_t count = b.has_input(node, zp_index)
                                ? b.constant_input(node, zp_index, name + "_zero_point").f.size() +
                                      b.constant_input(node, zp_index, name + "_zero_point").i.size()
                                : w.scales.size();
  const ZeroPoints zp = read_zero_points(b, node, zp_index, name + "_zero_point", w.tensor->data_type, count);
  if (zp.data_type != w.tensor->data_type) {
    throw InputError(b.where(node) + name + "_zero_point: type " + onnx_type_name(zp.data_type) + " differs from " +
                     name + "'s " + onnx_type_name(w.tensor->data_type));
  }
  w.zero_points = zp.values;
  auto check_count = [&](std::size_t n, const std::string& what) {
    if (n != 1 && static_cast<std::int64_t>(n) != channels) {
      throw InputError(b.where(node) + what + ": expected 1 or " + std::to_string(channels) + " values, got " +
                       std::to_string(n));
    }
  };
  check_count(w.scales.size(), name + "_scale");
  check_count(w.zero_points.size(), name + "_zero_point");
  if (w.scales.size() != w.zero_points.size()) {
    // Broadcast the per-tensor one so that both are per channel.
    if (w.scales.size() == 1)
      w.scales.assign(w.zero_points.size(), w.scales[0]);
    else
      w.zero_points.assign(w.scales.size(), w.zero_points[0]);
  }
  return w;
}

// Integer weights in {N, K} order (channel_axis 1: the file's [K, N] is
// transposed), in int8 terms, with their dequantized fp32 values.
OnnxLayerQuant layer_quant_of(const IntegerWeights& w, int channel_axis, std::vector<float>& real) {
  const OnnxTensor& t = *w.tensor;
  const std::int64_t n = t.dims[static_cast<std::size_t>(channel_axis)];
  const std::int64_t k = t.elements() / n;
  OnnxLayerQuant lq;
  lq.weight_scales = w.scales;
  for (const auto z : w.zero_points) lq.weight_zero_points.push_back(to_int8_terms(z, t.data_type));
  lq.weights.resize(static_cast<std::size_t>(n * k));
  real.resize(lq.weights.size());
  for (std::int64_t i = 0; i < n; ++i) {
    const std::size_t c = w.scales.size() == 1 ? 0 : static_cast<std::size_t>(i);
    const auto scale = static_cast<float>(w.scales[c]);
    for (std::int64_t j = 0; j < k; ++j) {
      const std::int64_t v = t.i[static_cast<std::size_t>(channel_axis == 0 ? i * k + j : j * n + i)];
      const auto at = static_cast<std::size_t>(i * k + j);
      lq.weights[at] = static_cast<std::int8_t>(to_int8_terms(v, t.data_type));
      // DequantizeLinear's fp32 arithmetic: float(q - zp) * scale.
      real[at] = static_cast<float>(v - w.zero_points[c]) * scale;
    }
  }
  return lq;
}

void map_quantize(OnnxBuilder& b, const onnx::NodeProto& node) {
  const OnnxValue& x = b.runtime_input(node, 0);
  if (x.view != OnnxView::real || x.data_type != kFloat) {
    throw OnnxUnsupported("input 0 is " + onnx_type_name(x.data_type) + "; expected FLOAT");
  }
  const OnnxQuant q = read_tensor_quant(b, node, 1, 2, "y", kUint8);
  const int type = b.has_input(node, 2) ? b.constant_input(node, 2, "y_zero_point").data_type : kUint8;
  b.set_quant(x.tensor, q, b.where(node) + "y_scale/y_zero_point", type);
  OnnxValue out = x;
  out.view = OnnxView::integer;
  out.data_type = type;
  out.direct_layer = -1;
  b.set_output(node, 0, std::move(out));
}

void map_dequantize(OnnxBuilder& b, const onnx::NodeProto& node) {
  const OnnxValue& x = *b.input(node, 0);
  if (x.is_constant()) {
    const OnnxTensor& t = *x.constant;
    if (t.data_type != kUint8 && t.data_type != kInt8 && t.data_type != kInt32) {
      throw InputError(b.where(node) + "x: expected UINT8, INT8 or INT32 values, got " + onnx_type_name(t.data_type));
    }
    auto dq = std::make_shared<OnnxDequantized>();
    dq->data_type = t.data_type;
    dq->values = t.i;
    dq->scales = read_scales(b, node, 1, "x_scale");
    const ZeroPoints zp = read_zero_points(b, node, 2, "x_zero_point", t.data_type, dq->scales.size());
    if (zp.data_type != t.data_type) throw InputError(b.where(node) + "x_zero_point: type differs from x's");
    dq->zero_points = zp.values;
    const OnnxAttributes attrs(node, b.file());
    std::int64_t axis = attrs.integer("axis", 1);
    const auto rank = static_cast<std::int64_t>(t.dims.size());
    if (axis < 0) axis += rank;
    if (rank == 1) axis = 0;  // a bias vector: its one axis, whatever the default says
    std::int64_t inner = 1, channels = 1;
    if (dq->scales.size() > 1) {
      if (axis < 0 || axis >= rank ||
          t.dims[static_cast<std::size_t>(axis)] != static_cast<std::int64_t>(dq->scales.size())) {
        throw InputError(b.where(node) + "x_scale: " + std::to_string(dq->scales.size()) +
                         " scales do not match axis " + std::to_string(axis) + " of x " + dims_text(t.dims));
      }
      channels = t.dims[static_cast<std::size_t>(axis)];
      for (std::int64_t d = axis + 1; d < rank; ++d) inner *= t.dims[static_cast<std::size_t>(d)];
    }
    if (dq->zero_points.size() != dq->scales.size()) {
      throw InputError(b.where(node) + "x_zero_point: expected as many values as x_scale");
    }
    dq->axis = static_cast<int>(axis);
    auto real = std::make_shared<OnnxTensor>();
    real->name = node.output(0);
    real->dims = t.dims;
    real->data_type = kFloat;
    real->f.resize(t.i.size());
    for (std::size_t j = 0; j < t.i.size(); ++j) {
      const std::size_t c = static_cast<std::size_t>((static_cast<std::int64_t>(j) / inner) % channels);
      real->f[j] = static_cast<float>(t.i[j] - dq->zero_points[c]) * static_cast<float>(dq->scales[c]);
    }
    OnnxValue out;
    out.constant = std::move(real);
    out.dequantized = std::move(dq);
    out.shape = t.dims;
    out.data_type = kFloat;
    b.set_output(node, 0, std::move(out));
    return;
  }
  const OnnxValue& xi = integer_input(b, node, 0);
  const OnnxQuant q = read_tensor_quant(b, node, 1, 2, "x", xi.data_type);
  if (b.has_input(node, 2) && b.constant_input(node, 2, "x_zero_point").data_type != xi.data_type) {
    throw InputError(b.where(node) + "x_zero_point: type differs from x's " + onnx_type_name(xi.data_type));
  }
  b.set_quant(xi.tensor, q, b.where(node) + "x_scale/x_zero_point", xi.data_type);
  OnnxValue out = xi;
  out.view = OnnxView::real;
  out.data_type = kFloat;
  out.direct_layer = -1;
  b.set_output(node, 0, std::move(out));
}

int zero_point_type(const OnnxBuilder& b, const onnx::NodeProto& node, int index, int fallback) {
  return b.has_input(node, index) ? b.constant_input(node, index, "y_zero_point").data_type : fallback;
}

void finish_quantized_layer(OnnxBuilder& b, OnnxValue& out, OnnxLayerQuant lq) {
  const int layer = b.tensors()[static_cast<std::size_t>(out.tensor)].layer;
  b.layer_quant()[static_cast<std::size_t>(layer)] = std::move(lq);
}

void map_qlinear_conv(OnnxBuilder& b, const onnx::NodeProto& node) {
  const OnnxValue& x = integer_input(b, node, 0);
  const OnnxQuant xq = read_tensor_quant(b, node, 1, 2, "x", x.data_type);
  const OnnxTensor& wt = b.constant_input(node, 3, "w");
  if (wt.dims.size() < 3) throw InputError(b.where(node) + "w: expected rank 3 or 4, got " + dims_text(wt.dims));
  const IntegerWeights w = read_integer_weights(b, node, 3, 4, 5, wt.dims[0], "w", true);
  const OnnxQuant yq = read_tensor_quant(b, node, 6, 7, "y", x.data_type);
  std::vector<float> real;
  OnnxLayerQuant lq = layer_quant_of(w, 0, real);
  std::vector<float> bias;
  if (b.has_input(node, 8)) {
    const OnnxTensor& bt = b.constant_input(node, 8, "B");
    if (bt.data_type != kInt32 || bt.elements() != wt.dims[0]) {
      throw InputError(b.where(node) + "B: expected " + std::to_string(wt.dims[0]) + " INT32 values");
    }
    lq.bias_int32.emplace();
    for (std::size_t n = 0; n < bt.i.size(); ++n) {
      const double s = xq.scale * lq.weight_scales[lq.weight_scales.size() == 1 ? 0 : n];
      lq.bias_int32->push_back(static_cast<std::int32_t>(bt.i[n]));
      lq.bias_scales.push_back(s);
      bias.push_back(static_cast<float>(static_cast<double>(bt.i[n]) * s));
    }
  }
  b.set_quant(x.tensor, xq, b.where(node) + "x_scale/x_zero_point", x.data_type);
  OnnxValue out = add_conv_layer(b, node, x, wt.dims, std::move(real), std::move(bias));
  finish_quantized_layer(b, out, std::move(lq));
  out.data_type = zero_point_type(b, node, 7, x.data_type);
  b.set_quant(out.tensor, yq, b.where(node) + "y_scale/y_zero_point", out.data_type);
  out.view = OnnxView::integer;
  out.direct_layer = -1;  // the output is already requantized: nothing fuses
  b.set_output(node, 0, std::move(out));
}

OnnxTensor matrix_b(const OnnxBuilder& b, const onnx::NodeProto& node, int index, const OnnxValue& a) {
  const OnnxValue& bv = *b.input(node, index);
  if (!bv.is_constant()) throw OnnxUnsupported("B (input " + std::to_string(index) + ") must be a constant");
  OnnxTensor t = matmul_b_matrix(b, *bv.constant, a);
  if (a.shape.empty() || a.shape.back() != t.dims[0]) {
    throw InputError(b.where(node) + "mismatched shapes: A " + dims_text(a.shape) + " and B " + dims_text(t.dims));
  }
  require_single_row(a.shape, "A");
  return t;
}

void map_qlinear_matmul(OnnxBuilder& b, const onnx::NodeProto& node) {
  const OnnxValue& a = integer_input(b, node, 0);
  const OnnxQuant aq = read_tensor_quant(b, node, 1, 2, "a", a.data_type);
  const OnnxTensor bt = matrix_b(b, node, 3, a);
  IntegerWeights w = read_integer_weights(b, node, 3, 4, 5, bt.dims[1], "b", true);
  w.tensor = &bt;  // the [K, N] matrix of a B with equal batch slices
  const OnnxQuant yq = read_tensor_quant(b, node, 6, 7, "y", a.data_type);
  std::vector<float> real;
  OnnxLayerQuant lq = layer_quant_of(w, 1, real);
  b.set_quant(a.tensor, aq, b.where(node) + "a_scale/a_zero_point", a.data_type);
  OnnxValue out = add_fc_layer(b, node, a, bt.dims[1], std::move(real), {});
  finish_quantized_layer(b, out, std::move(lq));
  out.data_type = zero_point_type(b, node, 7, a.data_type);
  b.set_quant(out.tensor, yq, b.where(node) + "y_scale/y_zero_point", out.data_type);
  out.view = OnnxView::integer;
  out.direct_layer = -1;
  b.set_output(node, 0, std::move(out));
}

// ConvInteger / MatMulInteger give the input only a zero point: its scale is
// whatever else quantizes the tensor, or 1.
void set_zero_point(OnnxBuilder& b, const onnx::NodeProto& node, const OnnxValue& x, int zp_index) {
  const ZeroPoints zp = read_zero_points(b, node, zp_index, "x_zero_point", x.data_type, 1);
  if (zp.values.size() != 1) throw OnnxUnsupported("per-row input zero points are not supported");
  if (zp.data_type != x.data_type) throw InputError(b.where(node) + "input zero point: type differs from the input's");
  const std::int32_t z = to_int8_terms(zp.values[0], zp.data_type);
  OnnxIrTensor& t = b.tensors()[static_cast<std::size_t>(x.tensor)];
  b.set_quant(x.tensor, OnnxQuant{t.quant ? t.quant->scale : 1.0, z}, b.where(node) + "input zero point", x.data_type);
}

void map_integer_op(OnnxBuilder& b, const onnx::NodeProto& node, bool conv) {
  const OnnxValue& x = integer_input(b, node, 0);
  std::vector<float> real;
  OnnxLayerQuant lq;
  OnnxValue out;
  if (conv) {
    const OnnxTensor& wt = b.constant_input(node, 1, "w");
    if (wt.dims.size() < 3) throw InputError(b.where(node) + "w: expected rank 3 or 4, got " + dims_text(wt.dims));
    const IntegerWeights w = read_integer_weights(b, node, 1, -1, 3, wt.dims[0], "w", false);
    lq = layer_quant_of(w, 0, real);
    set_zero_point(b, node, x, 2);
    out = add_conv_layer(b, node, x, wt.dims, std::move(real), {});
  } else {
    const OnnxTensor bt = matrix_b(b, node, 1, x);
    IntegerWeights w = read_integer_weights(b, node, 1, -1, 3, bt.dims[1], "b", false);
    w.tensor = &bt;
    lq = layer_quant_of(w, 1, real);
    set_zero_point(b, node, x, 2);
    out = add_fc_layer(b, node, x, bt.dims[1], std::move(real), {});
  }
  lq.accumulator_output = true;
  finish_quantized_layer(b, out, std::move(lq));
  out.view = OnnxView::accumulator;
  out.data_type = kInt32;
  out.direct_layer = -1;
  b.set_output(node, 0, std::move(out));
}

// A Cast of a runtime tensor to its own element type, e.g. torch 1.13's
// Cast(to=UINT8) after every QuantizeLinear: the same tensor. Any other type
// would change the values, which the IR has no layer for.
void map_cast(OnnxBuilder& b, const onnx::NodeProto& node) {
  const OnnxValue& x = b.runtime_input(node, 0);
  const OnnxAttributes attrs(node, b.file());
  if (!attrs.has("to")) throw InputError(b.where(node) + "attribute to: missing");
  const auto to = static_cast<int>(attrs.integer("to", 0));
  if (to != x.data_type) {
    throw OnnxUnsupported("cast from " + onnx_type_name(x.data_type) + " to " + onnx_type_name(to) +
                          " (only a cast to the tensor's own type, a no-op, is supported)");
  }
  OnnxValue out = x;
  out.direct_layer = -1;
  b.set_output(node, 0, std::move(out));
}

}  // namespace

void attach_file_quantization(OnnxBuilder& b, const onnx::NodeProto& node, const OnnxValue& out, const OnnxValue& w,
                              const OnnxValue* bias, int channel_axis) {
  const int layer = b.tensors()[static_cast<std::size_t>(out.tensor)].layer;
  if (!w.dequantized) {
    if (bias && bias->dequantized) throw OnnxUnsupported("a dequantized bias with fp32 weights is not supported");
    return;
  }
  const OnnxDequantized& dq = *w.dequantized;
  if (dq.data_type != kUint8 && dq.data_type != kInt8) {
    throw OnnxUnsupported("weights dequantized from " + onnx_type_name(dq.data_type) + " (expected UINT8 or INT8)");
  }
  const OnnxDims& dims = w.constant->dims;
  if (dq.scales.size() > 1 && dq.axis != channel_axis) {
    throw OnnxUnsupported("weight scales along axis " + std::to_string(dq.axis) +
                          " (npusim takes per-output-channel or per-tensor weight scales)");
  }
  OnnxTensor integers;
  integers.dims = dims;
  integers.data_type = dq.data_type;
  integers.i = dq.values;
  IntegerWeights iw{&integers, dq.scales, dq.zero_points};
  std::vector<float> real;
  OnnxLayerQuant lq = layer_quant_of(iw, channel_axis, real);
  if (bias && bias->dequantized) {
    const OnnxDequantized& bq = *bias->dequantized;
    if (bq.data_type != kInt32)
      throw OnnxUnsupported("bias dequantized from " + onnx_type_name(bq.data_type) + " (expected INT32)");
    if (std::any_of(bq.zero_points.begin(), bq.zero_points.end(), [](std::int64_t z) { return z != 0; })) {
      throw InputError(b.where(node) + "bias: expected zero point 0 for an INT32 bias");
    }
    lq.bias_int32.emplace();
    for (std::size_t n = 0; n < bq.values.size(); ++n) {
      lq.bias_int32->push_back(static_cast<std::int32_t>(bq.values[n]));
      lq.bias_scales.push_back(bq.scales[bq.scales.size() == 1 ? 0 : n]);
    }
  }
  b.layer_quant()[static_cast<std::size_t>(layer)] = std::move(lq);
}

bool is_quant_op(const std::string& op_type) {
  // Cast and ConstantOfShape: what torch.onnx writes around quantized layers.
  // Of constants they are folded (models/onnx/onnx_constant_fold.h) and never get here.
  static const std::set<std::string> ops = {"QuantizeLinear", "DequantizeLinear", "QLinearConv", "QLinearMatMul",
                                            "ConvInteger",    "MatMulInteger",    "Cast",        "ConstantOfShape"};
  return ops.count(op_type) > 0;
}

void map_quant_node(OnnxBuilder& b, const onnx::NodeProto& node) {
  const std::string& op = node.op_type();
  if (op == "QuantizeLinear") return map_quantize(b, node);
  if (op == "DequantizeLinear") return map_dequantize(b, node);
  if (op == "QLinearConv") return map_qlinear_conv(b, node);
  if (op == "QLinearMatMul") return map_qlinear_matmul(b, node);
  if (op == "ConvInteger") return map_integer_op(b, node, true);
  if (op == "MatMulInteger") return map_integer_op(b, node, false);
  if (op == "Cast") return map_cast(b, node);
  if (op == "ConstantOfShape") throw OnnxUnsupported("the shape must be a constant");
  throw std::logic_error("map_quant_node: " + op);
}

}  // namespace npusim
