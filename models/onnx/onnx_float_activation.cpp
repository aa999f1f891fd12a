#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <set>
#include <utility>

#include "models/input_error.h"
#include "models/onnx/onnx_builder.h"
#include "models/onnx/onnx_float_common.h"
#include "models/onnx/onnx_proto.h"

// Relu, Clip and the pools: activations fuse into the layer before them when
// they can, else become relu/relu6 layers; pools (and a spatial ReduceMean)
// become maxpool/avgpool layers.

namespace npusim::onnx_float {
namespace {

// Fuses an activation into the layer that made `x` when nothing else reads
// that layer's output; returns false when it cannot.
bool fuse_activation(OnnxBuilder& b, const onnx::NodeProto& node, const OnnxValue& x, Activation activation) {
  if (x.direct_layer < 0 || b.consumers(node.input(0)) != 1) return false;
  Layer& layer = b.graph().layers[static_cast<std::size_t>(x.direct_layer)];
  if (layer.activation != Activation::none) return false;
  if (layer.type != LayerType::conv2d && layer.type != LayerType::fc && layer.type != LayerType::add) return false;
  layer.activation = activation;
  return true;
}

void add_activation(OnnxBuilder& b, const onnx::NodeProto& node, const OnnxValue& x, Activation activation) {
  if (fuse_activation(b, node, x, activation)) {
    OnnxValue out = x;
    out.direct_layer = -1;
    b.set_output(node, 0, std::move(out));
    return;
  }
  Layer layer;
  layer.name = b.layer_name(node);
  layer.type = activation == Activation::relu6 ? LayerType::relu6 : LayerType::relu;
  layer.inputs = {b.tensors()[static_cast<std::size_t>(x.tensor)].name};
  layer.output_dims = b.tensors()[static_cast<std::size_t>(x.tensor)].dims;
  const int t = b.add_layer(std::move(layer));
  b.set_output(node, 0, b.layer_value(t, x.shape, x.data_type, x.view, false));
}

}  // namespace

void map_relu(OnnxBuilder& b, const onnx::NodeProto& node) {
  add_activation(b, node, real_input(b, node, 0), Activation::relu);
}

namespace {

float scalar_bound(OnnxBuilder& b, const onnx::NodeProto& node, int index, float fallback) {
  if (!b.has_input(node, index)) return fallback;
  const OnnxTensor& t = b.constant_input(node, index, index == 1 ? "min" : "max");
  if (t.elements() != 1 || !t.is_float()) {
    throw InputError(b.where(node) + (index == 1 ? "min" : "max") + ": expected one FLOAT value");
  }
  return t.f[0];
}

}  // namespace

void map_clip(OnnxBuilder& b, const onnx::NodeProto& node) {
  const OnnxValue& x = real_input(b, node, 0);
  constexpr float kLowest = std::numeric_limits<float>::lowest();
  constexpr float kMax = std::numeric_limits<float>::max();
  float lo = kLowest, hi = kMax;
  if (b.view().opset() < 11) {
    const OnnxAttributes attrs(node, b.file());
    lo = attrs.real("min", kLowest);
    hi = attrs.real("max", kMax);
  } else {
    lo = scalar_bound(b, node, 1, kLowest);
    hi = scalar_bound(b, node, 2, kMax);
  }
  if (lo == 0.0f && hi == 6.0f) return add_activation(b, node, x, Activation::relu6);
  if (lo == 0.0f && hi >= kMax) return add_activation(b, node, x, Activation::relu);
  Layer layer;
  layer.name = b.layer_name(node);
  layer.type = LayerType::clip;
  layer.clip.min = std::max(lo, kLowest);
  layer.clip.max = std::min(hi, kMax);
  layer.inputs = {b.tensors()[static_cast<std::size_t>(x.tensor)].name};
  layer.output_dims = b.tensors()[static_cast<std::size_t>(x.tensor)].dims;
  const int t = b.add_layer(std::move(layer));
  b.set_output(node, 0, b.layer_value(t, x.shape, x.data_type, x.view, false));
}

void map_pool(OnnxBuilder& b, const onnx::NodeProto& node, bool average, bool global) {
  const OnnxValue& x = average ? real_input(b, node, 0) : any_input(b, node, 0);
  const OnnxAttributes attrs(node, b.file());
  const Spatial in = spatial_of(x);
  if (node.output_size() > 1 && !node.output(1).empty()) {
    throw OnnxUnsupported("the Indices output is not supported");
  }
  Layer layer;
  layer.name = b.layer_name(node);
  layer.type = average ? LayerType::avgpool : LayerType::maxpool;
  OnnxDims out_shape;
  if (global) {
    layer.pool.global = true;
    layer.pool.kernel_h = static_cast<int>(in.height);
    layer.pool.kernel_w = static_cast<int>(in.width);
    layer.output_dims = {in.channels, 1, 1};
    out_shape = spatial_shape(in, in.channels, 1, 1);
  } else {
    if (!attrs.has("kernel_shape")) throw InputError(attrs.where("kernel_shape") + ": required");
    const Window w = read_window(b, node, in, attrs.integers("kernel_shape", {}), true);
    if (w.dilation_h != 1 || w.dilation_w != 1) throw OnnxUnsupported("pooling dilations are not supported");
    if (average && attrs.integer("count_include_pad", 0) != 0 &&
        (w.pad_top || w.pad_left || w.pad_bottom || w.pad_right)) {
      throw OnnxUnsupported("count_include_pad=1 with padding (npusim averages over the in-bounds elements)");
    }
    if (attrs.integer("storage_order", 0) != 0 && node.output_size() > 1) {
      throw OnnxUnsupported("storage_order is not supported");
    }
    auto& p = layer.pool;
    p.kernel_h = static_cast<int>(w.kernel_h), p.kernel_w = static_cast<int>(w.kernel_w);
    p.stride_h = static_cast<int>(w.stride_h), p.stride_w = static_cast<int>(w.stride_w);
    p.pad_top = static_cast<int>(w.pad_top), p.pad_left = static_cast<int>(w.pad_left);
    p.pad_bottom = static_cast<int>(w.pad_bottom), p.pad_right = static_cast<int>(w.pad_right);
    // A window wholly inside the padding would average nothing.
    if (p.pad_top >= p.kernel_h || p.pad_bottom >= p.kernel_h || p.pad_left >= p.kernel_w ||
        p.pad_right >= p.kernel_w) {
      throw OnnxUnsupported("padding as large as the kernel (a window could hold no input element)");
    }
    layer.output_dims = {in.channels, w.out_h, w.out_w};
    out_shape = spatial_shape(in, in.channels, w.out_h, w.out_w);
  }
  const int input = b.with_dims(x, in.dims());
  layer.inputs = {b.tensors()[static_cast<std::size_t>(input)].name};
  const int t = b.add_layer(std::move(layer));
  b.set_output(node, 0, b.layer_value(t, std::move(out_shape), x.data_type, x.view, false));
}

// Sigmoid and HardSigmoid (alpha, beta; ONNX defaults 0.2 and 0.5): sigmoid /
// hard_sigmoid layers on the IR tensor of their input, whatever its dims.
void map_sigmoid(OnnxBuilder& b, const onnx::NodeProto& node) {
  const OnnxAttributes attrs(node, b.file());
  const OnnxValue& x = real_input(b, node, 0);
  Layer layer;
  layer.name = b.layer_name(node);
  layer.type = node.op_type() == "HardSigmoid" ? LayerType::hard_sigmoid : LayerType::sigmoid;
  layer.hard_sigmoid.alpha = attrs.real("alpha", 0.2f);
  layer.hard_sigmoid.beta = attrs.real("beta", 0.5f);
  layer.inputs = {b.tensors()[static_cast<std::size_t>(x.tensor)].name};
  layer.output_dims = b.tensors()[static_cast<std::size_t>(x.tensor)].dims;
  const int t = b.add_layer(std::move(layer));
  b.set_output(node, 0, b.layer_value(t, x.shape, x.data_type, x.view, false));
}

// ReduceMean over the spatial axes of [1, C, H, W] (H and W, or the length of
// [1, C, L]) is a global average pool, as torch writes x.mean([2, 3])
// (MNASNet): keepdims=1 gives [1, C, 1, 1], keepdims=0 gives [1, C]; both are
// {C, 1, 1} in the IR. Any other set of axes is a reduce layer (map_reduce).
void map_reduce_mean(OnnxBuilder& b, const onnx::NodeProto& node) {
  const OnnxAttributes attrs(node, b.file());
  const OnnxValue& x = real_input(b, node, 0);
  if (b.has_input(node, 1)) throw OnnxUnsupported("axes as an input (opset 18) is not supported");
  const auto rank = static_cast<std::int64_t>(x.shape.size());
  std::set<std::int64_t> axes;
  for (const auto a : attrs.integers("axes", {})) axes.insert(normalize_axis(a, x.shape.size(), b.where(node)));
  const bool spatial =
      (rank == 4 && axes == std::set<std::int64_t>{2, 3}) || (rank == 3 && axes == std::set<std::int64_t>{2});
  if (!spatial || x.shape[0] != 1) return map_reduce(b, node);  // other axes: a reduce layer (mean)
  const Spatial in = spatial_of(x);
  Layer layer;
  layer.name = b.layer_name(node);
  layer.type = LayerType::avgpool;
  layer.pool.global = true;
  layer.pool.kernel_h = static_cast<int>(in.height);
  layer.pool.kernel_w = static_cast<int>(in.width);
  layer.output_dims = {in.channels, 1, 1};
  const int input = b.with_dims(x, in.dims());
  layer.inputs = {b.tensors()[static_cast<std::size_t>(input)].name};
  const int t = b.add_layer(std::move(layer));
  OnnxDims out_shape =
      attrs.integer("keepdims", 1) != 0 ? spatial_shape(in, in.channels, 1, 1) : OnnxDims{1, in.channels};
  b.set_output(node, 0, b.layer_value(t, std::move(out_shape), x.data_type, x.view, false));
}

}  // namespace npusim::onnx_float
