#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "models/input_error.h"
#include "models/onnx/onnx_builder.h"
#include "models/onnx/onnx_float_common.h"
#include "models/onnx/onnx_proto.h"

// Tanh, LeakyRelu, HardSwish, PRelu, Sub, Div and the reductions other than
// a spatial mean: PPU function layers (models/graph.h); docs/onnx.md has
// each one's arithmetic and cost.

namespace npusim::onnx_float {
namespace {

const OnnxIrTensor& ir(const OnnxBuilder& b, const OnnxValue& v) {
  return b.tensors()[static_cast<std::size_t>(v.tensor)];
}

// A one-input layer of `type` over x's IR tensor, whatever its dims.
Layer unary_layer(OnnxBuilder& b, const onnx::NodeProto& node, LayerType type, const OnnxValue& x) {
  Layer layer;
  layer.name = b.layer_name(node);
  layer.type = type;
  layer.inputs = {ir(b, x).name};
  layer.output_dims = ir(b, x).dims;
  return layer;
}

// The per-channel values of a constant that varies along C only: one value
// ([], [1], [1, 1, 1]) for any runtime shape, or [C, 1, 1] / [1, C, 1, 1]
// against [1, C, H, W]. Empty when neither.
std::vector<float> channel_values(const OnnxTensor& c, const OnnxDims& x_shape, std::int64_t ir_channels) {
  if (!c.is_float() || c.dims.size() > x_shape.size()) return {};
  if (c.elements() == 1) return std::vector<float>(static_cast<std::size_t>(ir_channels), c.f[0]);
  OnnxDims trimmed = c.dims;
  while (!trimmed.empty() && trimmed.front() == 1) trimmed.erase(trimmed.begin());
  if (x_shape.size() != 4 || x_shape[0] != 1 || trimmed != OnnxDims{x_shape[1], 1, 1}) return {};
  return c.f;
}

// x as IR dims {C, H, W} when per-channel values apply to it along C.
int channel_tensor(OnnxBuilder& b, const OnnxValue& x, std::size_t values) {
  if (static_cast<std::int64_t>(values) == ir(b, x).dims[0]) return x.tensor;
  return b.with_dims(x, {x.shape[1], x.shape[2], x.shape[3]});
}

}  // namespace

// Tanh, LeakyRelu (alpha, default 0.01) and HardSwish: one layer each (the
// GELU patterns around a Tanh or Erf are fused before mapping, onnx_fusion.cpp).
void map_unary_function(OnnxBuilder& b, const onnx::NodeProto& node) {
  const OnnxAttributes attrs(node, b.file());
  const OnnxValue& x = real_input(b, node, 0);
  const std::string& op = node.op_type();
  const LayerType type =
      op == "Tanh" ? LayerType::tanh : (op == "LeakyRelu" ? LayerType::leaky_relu : LayerType::hard_swish);
  Layer layer = unary_layer(b, node, type, x);
  layer.alpha = attrs.real("alpha", 0.01f);
  if (type == LayerType::leaky_relu && !std::isfinite(layer.alpha)) {
    throw InputError(attrs.where("alpha") + ": expected a finite value");
  }
  const int t = b.add_layer(std::move(layer));
  b.set_output(node, 0, b.layer_value(t, x.shape, x.data_type, x.view, false));
}

// PRelu with a constant slope: one value, or one per channel of [1, C, H, W]
// (torch's nn.PReLU(C) writes [C, 1, 1]).
void map_prelu(OnnxBuilder& b, const onnx::NodeProto& node) {
  const OnnxValue& x = real_input(b, node, 0);
  const OnnxValue& s = *b.input(node, 1);
  if (!s.is_constant()) throw OnnxUnsupported("a slope computed at run time is not supported (only an initializer)");
  std::vector<float> slopes = channel_values(*s.constant, x.shape, ir(b, x).dims[0]);
  if (slopes.empty()) {
    throw OnnxUnsupported("slope " + shape_text(s.constant->dims) + " against " + shape_text(x.shape) +
                          " is not supported (one FLOAT value, or one per channel of [1, C, H, W])");
  }
  const int input = channel_tensor(b, x, slopes.size());
  Layer layer;
  layer.name = b.layer_name(node);
  layer.type = LayerType::prelu;
  layer.inputs = {b.tensors()[static_cast<std::size_t>(input)].name};
  layer.output_dims = b.tensors()[static_cast<std::size_t>(input)].dims;
  layer.weights = std::move(slopes);
  const int t = b.add_layer(std::move(layer));
  b.set_output(node, 0, b.layer_value(t, x.shape, x.data_type, x.view, false));
}

// Sub and Div. A constant that varies along C only becomes a per-channel
// `scale` layer: x - c = x * 1 + (-c) and c - x = x * -1 + c exactly,
// x / c = x * (1 / c) (within one rounding of the quotient). Otherwise a
// sub / div layer of two tensors of one shape, the second possibly one
// value per channel ([1, C, 1, 1]); any other constant operand is
// materialised at the runtime operand's shape (a constant layer).
void map_sub_div(OnnxBuilder& b, const onnx::NodeProto& node) {
  const bool divide = node.op_type() == "Div";
  const OnnxValue& x0 = *b.input(node, 0);
  const OnnxValue& x1 = *b.input(node, 1);
  std::optional<OnnxValue> constant;
  if (x0.is_constant() != x1.is_constant()) {
    const int runtime = x0.is_constant() ? 1 : 0;
    const OnnxValue& x = real_input(b, node, runtime);
    const std::vector<float> c = channel_values(*(runtime == 0 ? x1 : x0).constant, x.shape, ir(b, x).dims[0]);
    if (!c.empty() && !(divide && runtime == 1)) {
      const int input = channel_tensor(b, x, c.size());
      Layer layer;
      layer.name = b.layer_name(node);
      layer.type = LayerType::scale;
      layer.inputs = {b.tensors()[static_cast<std::size_t>(input)].name};
      layer.output_dims = b.tensors()[static_cast<std::size_t>(input)].dims;
      for (const float v : c) {
        layer.weights.push_back(divide ? 1.0f / v : (runtime == 0 ? 1.0f : -1.0f));
        layer.bias.push_back(divide ? 0.0f : (runtime == 0 ? -v : v));
      }
      layer.has_bias = true;
      const int t = b.add_layer(std::move(layer));
      b.set_output(node, 0, b.layer_value(t, x.shape, x.data_type, x.view, false));
      return;
    }
    constant = constant_layer(b, node, 1 - runtime, x.shape, ir(b, x).dims);
  }
  const OnnxValue& a = constant && x0.is_constant() ? *constant : real_input(b, node, 0);
  const OnnxValue& c = constant && x1.is_constant() ? *constant : real_input(b, node, 1);
  const bool gate = a.shape != c.shape;
  if (gate && !(a.shape.size() == 4 && a.shape[0] == 1 && c.shape == OnnxDims{1, a.shape[1], 1, 1})) {
    throw OnnxUnsupported("broadcasting " + shape_text(a.shape) + (divide ? " / " : " - ") + shape_text(c.shape) +
                          " is not supported (same shapes, or [1, C, H, W] and [1, C, 1, 1])");
  }
  Layer layer;
  layer.name = b.layer_name(node);
  layer.type = divide ? LayerType::div : LayerType::sub;
  const OnnxDims dims = gate ? OnnxDims{a.shape[1], a.shape[2], a.shape[3]} : ir(b, a).dims;
  const int first = b.with_dims(a, dims);
  const int second = b.with_dims(c, gate ? OnnxDims{a.shape[1], 1, 1} : dims);
  layer.inputs = {b.tensors()[static_cast<std::size_t>(first)].name,
                  b.tensors()[static_cast<std::size_t>(second)].name};
  layer.output_dims = dims;
  const int t = b.add_layer(std::move(layer));
  b.set_output(node, 0, b.layer_value(t, a.shape, a.data_type, a.view, false));
}

namespace {

// The axes a Reduce* node names: the attribute (ReduceSum before opset 13,
// the others before 18) or the constant input; none means all (unless
// noop_with_empty_axes).
std::set<std::int64_t> reduce_axes(OnnxBuilder& b, const onnx::NodeProto& node, std::size_t rank) {
  const OnnxAttributes attrs(node, b.file());
  std::vector<std::int64_t> listed;
  if (b.has_input(node, 1)) {
    if (node.op_type() != "ReduceSum") throw OnnxUnsupported("axes as an input (opset 18) is not supported");
    const OnnxTensor& axes = b.constant_input(node, 1, "axes");
    if (axes.data_type != static_cast<int>(OnnxElementType::int64))
      throw InputError(b.where(node) + "axes: expected INT64 values");
    listed = axes.i;
  } else {
    listed = attrs.integers("axes", {});
  }
  std::set<std::int64_t> axes;
  for (const auto a : listed) axes.insert(normalize_axis(a, rank, b.where(node)));
  if (listed.empty() && attrs.integer("noop_with_empty_axes", 0) == 0) {
    for (std::size_t d = 0; d < rank; ++d) axes.insert(static_cast<std::int64_t>(d));
  }
  return axes;
}

}  // namespace

// ReduceSum, ReduceMax and ReduceMean (a spatial ReduceMean is a global
// average pool, map_reduce_mean) over axes that are adjacent once the axes
// of extent 1 are set aside: a reduce layer over {outer, length, inner}'s
// middle axis (or the IR axis that already splits so). keepdims as ONNX.
void map_reduce(OnnxBuilder& b, const onnx::NodeProto& node) {
  const OnnxAttributes attrs(node, b.file());
  const OnnxValue& x = real_input(b, node, 0);
  const std::set<std::int64_t> axes = reduce_axes(b, node, x.shape.size());
  std::vector<std::int64_t> kept;  // reduced axes of extent > 1
  for (const auto a : axes) {
    if (x.shape[static_cast<std::size_t>(a)] > 1) kept.push_back(a);
  }
  for (std::size_t k = 1; k < kept.size(); ++k) {
    for (std::int64_t between = kept[k - 1] + 1; between < kept[k]; ++between) {
      if (x.shape[static_cast<std::size_t>(between)] > 1) {
        throw OnnxUnsupported("reducing axes " + dims_text(std::vector<std::int64_t>(axes.begin(), axes.end())) +
                              " of " + shape_text(x.shape) + " is not supported (only adjacent axes)");
      }
    }
  }
  std::int64_t outer = 1, length = 1, inner = 1;
  const std::int64_t first = kept.empty() ? 0 : kept.front(), last = kept.empty() ? -1 : kept.back();
  for (std::int64_t d = 0; d < static_cast<std::int64_t>(x.shape.size()); ++d) {
    const std::int64_t e = x.shape[static_cast<std::size_t>(d)];
    (d < first ? outer : (d <= last ? length : inner)) *= e;
  }
  if (kept.empty()) inner = element_count(x.shape) / outer;
  int input = x.tensor, ir_axis = -1;
  for (int j = 2; j >= 0; --j) {
    if (splits_at(ir(b, x).dims, j, outer, length, inner)) ir_axis = j;
  }
  if (ir_axis < 0) {
    input = b.with_dims(x, {outer, length, inner});
    ir_axis = 1;
  }
  Layer layer;
  layer.name = b.layer_name(node);
  layer.type = LayerType::reduce;
  const std::string& op = node.op_type();
  layer.reduce.op = op == "ReduceSum" ? ReduceOp::sum : (op == "ReduceMax" ? ReduceOp::max : ReduceOp::mean);
  layer.axis = ir_axis;
  layer.inputs = {b.tensors()[static_cast<std::size_t>(input)].name};
  layer.output_dims = b.tensors()[static_cast<std::size_t>(input)].dims;
  layer.output_dims[static_cast<std::size_t>(ir_axis)] = 1;
  OnnxDims out;
  const bool keepdims = attrs.integer("keepdims", 1) != 0;
  for (std::size_t d = 0; d < x.shape.size(); ++d) {
    const bool reduced = axes.count(static_cast<std::int64_t>(d)) > 0;
    if (!reduced || keepdims) out.push_back(reduced ? 1 : x.shape[d]);
  }
  const int t = b.add_layer(std::move(layer));
  b.set_output(node, 0, b.layer_value(t, std::move(out), x.data_type, x.view, false));
}

}  // namespace npusim::onnx_float
