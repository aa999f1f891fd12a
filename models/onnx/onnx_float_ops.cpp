#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <set>
#include <utility>

#include "models/input_error.h"
#include "models/onnx/onnx_builder.h"
#include "models/onnx/onnx_proto.h"

// FP32 ONNX ops onto IR layers. docs/onnx.md documents each mapping.

namespace npusim {
namespace {

constexpr int kFloat = static_cast<int>(OnnxElementType::float32);
constexpr std::int64_t kMaxWindow = 1024;

std::string shape_text(const OnnxDims& shape) { return dims_text(shape); }

std::int64_t normalize_axis(std::int64_t axis, std::size_t rank, const std::string& where) {
  const auto r = static_cast<std::int64_t>(rank);
  if (axis < -r || axis >= std::max<std::int64_t>(r, 1)) {
    throw InputError(where + "axis " + std::to_string(axis) + " is outside the rank " + std::to_string(r));
  }
  return axis < 0 ? axis + r : axis;
}

const OnnxValue& real_input(OnnxBuilder& b, const onnx::NodeProto& node, int index) {
  const OnnxValue& v = b.runtime_input(node, index);
  if (v.view == OnnxView::accumulator) {
    throw OnnxUnsupported("reads the int32 accumulators of a ConvInteger/MatMulInteger (only supported as the graph output)");
  }
  if (v.view != OnnxView::real || v.data_type != kFloat) {
    throw OnnxUnsupported("input " + std::to_string(index) + " has element type " + onnx_type_name(v.data_type) +
                          "; expected FLOAT (integer tensors need QuantizeLinear/DequantizeLinear)");
  }
  return v;
}

// Ops that move or select values without arithmetic also take integer tensors.
const OnnxValue& any_input(OnnxBuilder& b, const onnx::NodeProto& node, int index) {
  const OnnxValue& v = b.runtime_input(node, index);
  if (v.view == OnnxView::accumulator) {
    throw OnnxUnsupported("reads the int32 accumulators of a ConvInteger/MatMulInteger (only supported as the graph output)");
  }
  return v;
}

OnnxValue alias(const OnnxValue& in, OnnxDims shape) {
  OnnxValue v = in;
  v.shape = std::move(shape);
  v.direct_layer = -1;
  return v;
}

// The spatial layout an op needs: [1, C, H, W] -> {C, H, W}; a 1-D op's
// [1, C, L] -> {C, L, 1} (the length runs down H).
struct Spatial {
  std::int64_t channels = 0, height = 0, width = 0;
  bool one_d = false;
  OnnxDims dims() const { return {channels, height, width}; }
};

Spatial spatial_of(const OnnxValue& x) {
  const OnnxDims& s = x.shape;
  if (s.size() == 5) throw OnnxUnsupported("3-D (rank-5) tensors are not supported; the IR is 2-D {C, H, W}");
  if (s.size() != 4 && s.size() != 3) {
    throw OnnxUnsupported("expected an input of rank 4 [N, C, H, W] or 3 [N, C, L], got " + shape_text(s));
  }
  if (s[0] != 1) throw OnnxUnsupported("batch " + std::to_string(s[0]) + " > 1; npusim runs batch 1");
  if (s.size() == 3) return {s[1], s[2], 1, true};
  return {s[1], s[2], s[3], false};
}

OnnxDims spatial_shape(const Spatial& in, std::int64_t channels, std::int64_t h, std::int64_t w) {
  if (in.one_d) return {1, channels, h};
  return {1, channels, h, w};
}

// Window geometry of Conv and the pools.
struct Window {
  std::int64_t kernel_h = 1, kernel_w = 1;
  std::int64_t stride_h = 1, stride_w = 1;
  std::int64_t dilation_h = 1, dilation_w = 1;
  std::int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  std::int64_t out_h = 0, out_w = 0;
};

std::pair<std::int64_t, std::int64_t> pair_of(const std::vector<std::int64_t>& v, bool one_d) {
  return {v[0], one_d ? 1 : v[1]};
}

// Reads kernel (given), strides, dilations, pads / auto_pad and computes the
// output size; `ceil_mode` rounds the output size up (pools), realized as extra
// bottom/right padding that no window reaches with zero input elements.
Window read_window(const OnnxBuilder& b, const onnx::NodeProto& node, const Spatial& in,
                   std::vector<std::int64_t> kernel, bool allow_ceil) {
  const OnnxAttributes attrs(node, b.file());
  const std::size_t rank = in.one_d ? 1 : 2;
  if (kernel.size() != rank) {
    throw InputError(attrs.where("kernel_shape") + ": expected " + std::to_string(rank) + " values for a " +
                     std::to_string(rank) + "-D input, got " + std::to_string(kernel.size()));
  }
  const auto strides = attrs.integers("strides", std::vector<std::int64_t>(rank, 1));
  const auto dilations = attrs.integers("dilations", std::vector<std::int64_t>(rank, 1));
  const auto pads = attrs.integers("pads", std::vector<std::int64_t>(2 * rank, 0));
  if (strides.size() != rank) throw InputError(attrs.where("strides") + ": expected " + std::to_string(rank) + " values");
  if (dilations.size() != rank) {
    throw InputError(attrs.where("dilations") + ": expected " + std::to_string(rank) + " values");
  }
  if (pads.size() != 2 * rank) throw InputError(attrs.where("pads") + ": expected " + std::to_string(2 * rank) + " values");
  auto check_range = [&](const std::vector<std::int64_t>& v, std::int64_t lo, const char* name) {
    for (const auto x : v) {
      if (x < lo || x > kMaxWindow) {
        throw InputError(attrs.where(name) + ": expected values in [" + std::to_string(lo) + ", 1024], got " +
                         std::to_string(x));
      }
    }
  };
  check_range(kernel, 1, "kernel_shape");
  check_range(strides, 1, "strides");
  check_range(dilations, 1, "dilations");
  check_range(pads, 0, "pads");
  Window w;
  std::tie(w.kernel_h, w.kernel_w) = pair_of(kernel, in.one_d);
  std::tie(w.stride_h, w.stride_w) = pair_of(strides, in.one_d);
  std::tie(w.dilation_h, w.dilation_w) = pair_of(dilations, in.one_d);
  w.pad_top = pads[0];
  w.pad_bottom = pads[rank];
  w.pad_left = in.one_d ? 0 : pads[1];
  w.pad_right = in.one_d ? 0 : pads[3];
  const std::string auto_pad = attrs.text("auto_pad", "NOTSET");
  const std::int64_t extent_h = (w.kernel_h - 1) * w.dilation_h + 1;
  const std::int64_t extent_w = (w.kernel_w - 1) * w.dilation_w + 1;
  if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    auto same = [&](std::int64_t size, std::int64_t stride, std::int64_t extent, std::int64_t& begin,
                    std::int64_t& end) {
      const std::int64_t out = (size + stride - 1) / stride;
      const std::int64_t total = std::max<std::int64_t>(0, (out - 1) * stride + extent - size);
      begin = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      end = total - begin;
    };
    same(in.height, w.stride_h, extent_h, w.pad_top, w.pad_bottom);
    same(in.width, w.stride_w, extent_w, w.pad_left, w.pad_right);
  } else if (auto_pad == "VALID") {
    w.pad_top = w.pad_bottom = w.pad_left = w.pad_right = 0;
  } else if (auto_pad != "NOTSET") {
    throw InputError(attrs.where("auto_pad") + ": expected NOTSET, SAME_UPPER, SAME_LOWER or VALID, got \"" +
                     auto_pad + "\"");
  }
  const bool ceil = allow_ceil && attrs.integer("ceil_mode", 0) != 0;
  auto out_size = [&](std::int64_t size, std::int64_t pb, std::int64_t& pe, std::int64_t extent,
                      std::int64_t stride, const char* axis) {
    const std::int64_t padded = size + pb + pe;
    if (extent > padded) {
      throw InputError(b.where(node) + "the " + std::string(axis) + " window (" + std::to_string(extent) +
                       ") is larger than the padded input (" + std::to_string(padded) + ")");
    }
    std::int64_t out = (padded - extent) / stride + 1;
    if (ceil && (padded - extent) % stride != 0) {
      ++out;
      const std::int64_t extra = (out - 1) * stride + extent - padded;
      // The last window must start inside the input or its begin padding.
      if ((out - 1) * stride >= size + pb) {
        throw OnnxUnsupported("ceil_mode gives a window with no input element");
      }
      pe += extra;
    }
    return out;
  };
  w.out_h = out_size(in.height, w.pad_top, w.pad_bottom, extent_h, w.stride_h, "vertical");
  w.out_w = out_size(in.width, w.pad_left, w.pad_right, extent_w, w.stride_w, "horizontal");
  return w;
}

// --- FP32 ops ---------------------------------------------------------------

void map_conv(OnnxBuilder& b, const onnx::NodeProto& node) {
  const OnnxValue& x = real_input(b, node, 0);
  const OnnxValue& w = *b.input(node, 1);
  if (!w.is_constant()) throw OnnxUnsupported("the weights (input 1) must be a constant (an initializer)");
  std::vector<float> bias;
  if (const OnnxValue* bv = b.input(node, 2, false)) {
    if (!bv->is_constant()) throw OnnxUnsupported("the bias (input 2) must be a constant (an initializer)");
    if (!bv->constant->is_float()) throw InputError(b.where(node) + "bias: expected FLOAT values");
    bias = bv->constant->f;
  }
  if (!w.constant->is_float()) throw InputError(b.where(node) + "weights: expected FLOAT values");
  OnnxValue out = add_conv_layer(b, node, x, w.constant->dims, w.constant->f, std::move(bias));
  attach_file_quantization(b, node, out, w, b.input(node, 2, false), 0);
  b.set_output(node, 0, std::move(out));
}

void map_gemm(OnnxBuilder& b, const onnx::NodeProto& node) {
  const OnnxAttributes attrs(node, b.file());
  const OnnxValue& a = real_input(b, node, 0);
  if (a.shape.size() != 2) throw InputError(b.where(node) + "input A: expected rank 2, got " + shape_text(a.shape));
  const bool trans_a = attrs.integer("transA", 0) != 0;
  const bool trans_b = attrs.integer("transB", 0) != 0;
  const std::int64_t m = trans_a ? a.shape[1] : a.shape[0];
  const std::int64_t k = trans_a ? a.shape[0] : a.shape[1];
  if (m != 1) throw OnnxUnsupported("A has " + std::to_string(m) + " rows (batch > 1); npusim runs batch 1");
  const OnnxValue& bv = *b.input(node, 1);
  if (!bv.is_constant()) throw OnnxUnsupported("B (input 1) must be a constant (an initializer)");
  const OnnxTensor& bt = *bv.constant;
  if (!bt.is_float() || bt.dims.size() != 2) throw InputError(b.where(node) + "B: expected a FLOAT matrix");
  const std::int64_t bk = trans_b ? bt.dims[1] : bt.dims[0];
  const std::int64_t n = trans_b ? bt.dims[0] : bt.dims[1];
  if (bk != k) {
    throw InputError(b.where(node) + "mismatched shapes: A " + shape_text(a.shape) + " and B " +
                     shape_text(bt.dims) + " (transA " + std::to_string(trans_a) + ", transB " +
                     std::to_string(trans_b) + ")");
  }
  const float alpha = attrs.real("alpha", 1.0f);
  const float beta = attrs.real("beta", 1.0f);
  std::vector<float> weights(static_cast<std::size_t>(n * k));
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < k; ++j) {
      const float v = trans_b ? bt.f[static_cast<std::size_t>(i * k + j)] : bt.f[static_cast<std::size_t>(j * n + i)];
      weights[static_cast<std::size_t>(i * k + j)] = alpha == 1.0f ? v : alpha * v;
    }
  }
  std::vector<float> bias;
  if (const OnnxValue* cv = b.input(node, 2, false)) {
    if (!cv->is_constant()) throw OnnxUnsupported("C (input 2) must be a constant (an initializer)");
    const OnnxTensor& c = *cv->constant;
    // rows_as_batch: a C with a row per row of A ([M, N] or [M, 1]) gives
    // this model's row its own bias.
    const OnnxRowBatch& rows = b.view().row_batch();
    const bool per_row = rows.rows > 1 && c.dims.size() == 2 && c.dims[0] == rows.rows;
    if (per_row && cv->dequantized) {
      throw OnnxUnsupported("a per-row bias C [" + std::to_string(c.dims[0]) + ", " + std::to_string(c.dims[1]) +
                            "] read through DequantizeLinear is not supported");
    }
    const std::int64_t count = per_row ? c.dims[1] : c.elements();
    const std::size_t first = per_row ? static_cast<std::size_t>(rows.row * count) : 0;
    if (!c.is_float() || (count != 1 && count != n) || (!per_row && c.dims.size() == 2 && c.dims[0] != 1)) {
      throw InputError(b.where(node) + "C: expected FLOAT values broadcastable to [" +
                       std::to_string(rows.rows) + ", " + std::to_string(n) + "], got " + shape_text(c.dims));
    }
    bias.resize(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) {
      const float v = c.f[first + static_cast<std::size_t>(count == 1 ? 0 : i)];
      bias[static_cast<std::size_t>(i)] = beta == 1.0f ? v : beta * v;
    }
  }
  OnnxValue single_row = a;
  single_row.shape = {1, k};
  OnnxValue out = add_fc_layer(b, node, single_row, n, std::move(weights), std::move(bias));
  attach_file_quantization(b, node, out, bv, b.input(node, 2, false), trans_b ? 0 : 1);
  b.set_output(node, 0, std::move(out));
}

void map_matmul(OnnxBuilder& b, const onnx::NodeProto& node) {
  const OnnxValue& a = real_input(b, node, 0);
  const OnnxValue& bv = *b.input(node, 1);
  if (!bv.is_constant()) throw OnnxUnsupported("B (input 1) must be a constant (an initializer)");
  if (bv.dequantized && bv.constant->dims.size() != 2) {
    throw OnnxUnsupported("B has shape " + shape_text(bv.constant->dims) + "; a dequantized B must be a matrix");
  }
  if (!bv.constant->is_float()) throw InputError(b.where(node) + "B: expected FLOAT values");
  const OnnxTensor bt = matmul_b_matrix(b, *bv.constant, a);
  if (a.shape.empty() || a.shape.back() != bt.dims[0]) {
    throw InputError(b.where(node) + "mismatched shapes: A " + shape_text(a.shape) + " and B " + shape_text(bt.dims));
  }
  require_single_row(a.shape, "A");
  const std::int64_t k = bt.dims[0], n = bt.dims[1];
  std::vector<float> weights(static_cast<std::size_t>(n * k));
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < k; ++j) weights[static_cast<std::size_t>(i * k + j)] = bt.f[static_cast<std::size_t>(j * n + i)];
  }
  OnnxValue out = add_fc_layer(b, node, a, n, std::move(weights), {});
  attach_file_quantization(b, node, out, bv, nullptr, 1);
  b.set_output(node, 0, std::move(out));
}

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

void map_relu(OnnxBuilder& b, const onnx::NodeProto& node) {
  add_activation(b, node, real_input(b, node, 0), Activation::relu);
}

float scalar_bound(OnnxBuilder& b, const onnx::NodeProto& node, int index, float fallback) {
  if (!b.has_input(node, index)) return fallback;
  const OnnxTensor& t = b.constant_input(node, index, index == 1 ? "min" : "max");
  if (t.elements() != 1 || !t.is_float()) {
    throw InputError(b.where(node) + (index == 1 ? "min" : "max") + ": expected one FLOAT value");
  }
  return t.f[0];
}

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

// Folds a constant per-channel addend into the bias of the conv2d / fc layer
// that made `x`; false when it does not fit.
bool fold_bias_add(OnnxBuilder& b, const onnx::NodeProto& node, const OnnxValue& x, const OnnxTensor& c,
                   int x_index) {
  if (x.direct_layer < 0 || b.consumers(node.input(x_index)) != 1 || !c.is_float()) return false;
  Layer& layer = b.graph().layers[static_cast<std::size_t>(x.direct_layer)];
  if (layer.activation != Activation::none || b.layer_quant()[static_cast<std::size_t>(x.direct_layer)]) return false;
  const std::int64_t n = layer.type == LayerType::fc ? layer.fc.out_features
                         : layer.type == LayerType::conv2d ? layer.conv.out_channels
                                                            : 0;
  if (n == 0 || c.elements() != n) return false;
  // The addend must vary along the channel axis only: [N] / [1, N] after an
  // fc (channel last), [N, 1, 1] / [1, N, 1, 1] after a conv2d.
  OnnxDims trimmed = c.dims;
  while (!trimmed.empty() && trimmed.front() == 1) trimmed.erase(trimmed.begin());
  const bool fits = layer.type == LayerType::fc
                        ? trimmed == OnnxDims{n} && x.shape.back() == n
                        : (trimmed == OnnxDims{n, 1, 1} || (n == 1 && trimmed.empty())) && x.shape.size() == 4;
  if (!fits || c.dims.size() > x.shape.size()) return false;
  if (!layer.has_bias) layer.bias.assign(static_cast<std::size_t>(n), 0.0f);
  layer.has_bias = true;
  for (std::int64_t i = 0; i < n; ++i) layer.bias[static_cast<std::size_t>(i)] += c.f[static_cast<std::size_t>(i)];
  return true;
}

// Constant input `index` of `node` as a constant layer (models/graph.h): its
// FLOAT values broadcast by ONNX's (numpy) rules to `shape`, which they may
// not enlarge, and laid out under IR dims `dims` (row-major, like every IR
// tensor). Broadcasting materialises the full tensor: cheap for constants.
OnnxValue constant_layer(OnnxBuilder& b, const onnx::NodeProto& node, int index, const OnnxDims& shape,
                         const OnnxDims& dims) {
  const OnnxTensor& c = *b.input(node, index)->constant;
  if (!c.is_float()) {
    throw OnnxUnsupported("input " + std::to_string(index) + " (\"" + node.input(index) + "\") is a constant of type " +
                          onnx_type_name(c.data_type) + "; constant tensors in the IR are FLOAT");
  }
  const std::size_t rank = shape.size();
  bool fits = c.dims.size() <= rank;
  for (std::size_t d = 0; fits && d < c.dims.size(); ++d) {
    const std::int64_t cd = c.dims[c.dims.size() - 1 - d];
    fits = cd == 1 || cd == shape[rank - 1 - d];
  }
  if (!fits) {
    throw OnnxUnsupported("broadcasting the constant input " + std::to_string(index) + " " + shape_text(c.dims) +
                          " to " + shape_text(shape) + " is not supported (a constant operand may not enlarge the "
                          "runtime one)");
  }
  // Source strides of the constant, aligned to `shape` from the right (0 on a
  // broadcast axis).
  std::vector<std::int64_t> stride(rank, 0);
  std::int64_t step = 1;
  for (std::size_t d = 0; d < c.dims.size(); ++d) {
    const std::size_t axis = rank - 1 - d;
    const std::int64_t cd = c.dims[c.dims.size() - 1 - d];
    stride[axis] = cd == 1 ? 0 : step;
    step *= cd;
  }
  Layer layer;
  layer.name = node.input(index);
  layer.type = LayerType::constant;
  layer.output_dims = dims;
  const std::int64_t count = element_count(shape);
  layer.weights.resize(static_cast<std::size_t>(count));
  std::vector<std::int64_t> at(rank, 0);
  for (std::int64_t j = 0; j < count; ++j) {
    std::int64_t source = 0;
    for (std::size_t d = 0; d < rank; ++d) source += at[d] * stride[d];
    layer.weights[static_cast<std::size_t>(j)] = c.f[static_cast<std::size_t>(source)];
    for (std::size_t d = rank; d-- > 0;) {
      if (++at[d] < shape[d]) break;
      at[d] = 0;
    }
  }
  const int t = b.add_layer(std::move(layer));
  return b.layer_value(t, shape, kFloat, OnnxView::real, false);
}

void map_add(OnnxBuilder& b, const onnx::NodeProto& node) {
  const OnnxValue& x0 = *b.input(node, 0);
  const OnnxValue& x1 = *b.input(node, 1);
  std::optional<OnnxValue> constant;  // a constant operand, as a constant layer
  if (x0.is_constant() != x1.is_constant()) {
    const int runtime = x0.is_constant() ? 1 : 0;
    const OnnxValue& x = real_input(b, node, runtime);
    const OnnxTensor& c = *(runtime == 0 ? x1 : x0).constant;
    if (fold_bias_add(b, node, x, c, runtime)) {
      OnnxValue out = x;  // still the layer's direct output: a Relu may fuse
      b.set_output(node, 0, std::move(out));
      return;
    }
    constant = constant_layer(b, node, 1 - runtime, x.shape, b.tensors()[static_cast<std::size_t>(x.tensor)].dims);
  }
  const OnnxValue& a = constant && x0.is_constant() ? *constant : real_input(b, node, 0);
  const OnnxValue& c = constant && x1.is_constant() ? *constant : real_input(b, node, 1);
  if (a.shape != c.shape) {
    throw OnnxUnsupported("broadcasting " + shape_text(a.shape) + " + " + shape_text(c.shape) +
                          " is not supported (both runtime operands must have the same shape)");
  }
  Layer layer;
  layer.name = b.layer_name(node);
  layer.type = LayerType::add;
  const OnnxDims dims = b.tensors()[static_cast<std::size_t>(a.tensor)].dims;
  const int second = b.with_dims(c, dims);
  layer.inputs = {b.tensors()[static_cast<std::size_t>(a.tensor)].name, b.tensors()[static_cast<std::size_t>(second)].name};
  layer.output_dims = dims;
  const int t = b.add_layer(std::move(layer));
  b.set_output(node, 0, b.layer_value(t, a.shape, a.data_type, a.view, true));
}

// Whether the row-major data of IR dims `dims` splits at axis j into
// (outer, length, inner), as an ONNX tensor does along its op's axis.
bool splits_at(const OnnxDims& dims, int j, std::int64_t outer, std::int64_t length, std::int64_t inner) {
  std::int64_t before = 1, after = 1;
  for (int i = 0; i < j; ++i) before *= dims[static_cast<std::size_t>(i)];
  for (int i = j + 1; i < 3; ++i) after *= dims[static_cast<std::size_t>(i)];
  return before == outer && dims[static_cast<std::size_t>(j)] == length && after == inner;
}

void map_concat(OnnxBuilder& b, const onnx::NodeProto& node) {
  const OnnxAttributes attrs(node, b.file());
  if (node.input_size() < 1) throw InputError(b.where(node) + "expected at least one input");
  std::vector<const OnnxValue*> xs;
  // Constant inputs become constant layers under their canonical dims; xs
  // points into this vector, which never reallocates.
  std::vector<OnnxValue> constants;
  constants.reserve(static_cast<std::size_t>(node.input_size()));
  for (int i = 0; i < node.input_size(); ++i) {
    if (const OnnxValue* v = b.input(node, i); v && v->is_constant()) {
      const OnnxDims& shape = v->constant->dims;
      xs.push_back(&constants.emplace_back(constant_layer(b, node, i, shape, canonical_dims(shape))));
      continue;
    }
    xs.push_back(&any_input(b, node, i));
  }
  const OnnxDims& first = xs[0]->shape;
  if (!attrs.has("axis")) throw InputError(attrs.where("axis") + ": required");
  const auto axis = static_cast<std::size_t>(normalize_axis(attrs.integer("axis", 0), first.size(), b.where(node)));
  OnnxDims out = first;
  out[axis] = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const OnnxDims& s = xs[i]->shape;
    bool ok = s.size() == first.size() && xs[i]->view == xs[0]->view && xs[i]->data_type == xs[0]->data_type;
    for (std::size_t d = 0; ok && d < s.size(); ++d) ok = d == axis || s[d] == first[d];
    if (!ok) {
      throw InputError(b.where(node) + "mismatched inputs: input 0 is " + onnx_type_name(xs[0]->data_type) + " " +
                       shape_text(first) + ", input " + std::to_string(i) + " is " +
                       onnx_type_name(xs[i]->data_type) + " " + shape_text(s) + " (concat axis " +
                       std::to_string(axis) + ")");
    }
    out[axis] += s[axis];
  }
  std::int64_t outer = 1, inner = 1;
  for (std::size_t d = 0; d < axis; ++d) outer *= first[d];
  for (std::size_t d = axis + 1; d < first.size(); ++d) inner *= first[d];
  auto ir_dims = [&](const OnnxValue* x) { return b.tensors()[static_cast<std::size_t>(x->tensor)].dims; };
  // One IR axis along which every input splits as in the file, the other
  // axes equal; otherwise every input is reshaped to {outer, length, inner}.
  int ir_axis = -1;
  for (int j = 0; j < 3 && ir_axis < 0; ++j) {
    OnnxDims rest = ir_dims(xs[0]);
    rest[static_cast<std::size_t>(j)] = 0;
    bool all = true;
    for (const OnnxValue* x : xs) {
      OnnxDims other = ir_dims(x);
      all = all && splits_at(other, j, outer, x->shape[axis], inner);
      other[static_cast<std::size_t>(j)] = 0;
      all = all && other == rest;
    }
    if (all) ir_axis = j;
  }
  Layer layer;
  layer.name = b.layer_name(node);
  layer.type = LayerType::concat;
  OnnxDims dims;
  if (ir_axis >= 0) {
    for (const OnnxValue* x : xs) layer.inputs.push_back(b.tensors()[static_cast<std::size_t>(x->tensor)].name);
    dims = ir_dims(xs[0]);
  } else {
    ir_axis = 1;
    for (const OnnxValue* x : xs) {
      const int t = b.with_dims(*x, {outer, x->shape[axis], inner});
      layer.inputs.push_back(b.tensors()[static_cast<std::size_t>(t)].name);
    }
    dims = {outer, 0, inner};
  }
  dims[static_cast<std::size_t>(ir_axis)] = out[axis];
  layer.axis = ir_axis;
  layer.output_dims = dims;
  const int t = b.add_layer(std::move(layer));
  b.set_output(node, 0, b.layer_value(t, out, xs[0]->data_type, xs[0]->view, false));
}

void map_softmax(OnnxBuilder& b, const onnx::NodeProto& node) {
  const OnnxAttributes attrs(node, b.file());
  const OnnxValue& x = real_input(b, node, 0);
  const bool legacy = b.view().opset() < 13;  // softmax over the flattened [axis:] block
  const auto axis = static_cast<std::size_t>(
      normalize_axis(attrs.integer("axis", legacy ? 1 : -1), x.shape.size(), b.where(node)));
  std::int64_t outer = 1, length = 1, inner = 1;
  for (std::size_t d = 0; d < x.shape.size(); ++d) {
    if (d < axis) outer *= x.shape[d];
    else if (d == axis || legacy) length *= x.shape[d];
    else inner *= x.shape[d];
  }
  int input = x.tensor;
  int ir_axis = -1;
  for (int j = 2; j >= 0; --j) {
    if (splits_at(b.tensors()[static_cast<std::size_t>(x.tensor)].dims, j, outer, length, inner)) ir_axis = j;
  }
  if (ir_axis < 0) {
    input = b.with_dims(x, {outer, length, inner});
    ir_axis = 1;
  }
  Layer layer;
  layer.name = b.layer_name(node);
  layer.type = LayerType::softmax;
  layer.axis = ir_axis;
  layer.inputs = {b.tensors()[static_cast<std::size_t>(input)].name};
  layer.output_dims = b.tensors()[static_cast<std::size_t>(input)].dims;
  const int t = b.add_layer(std::move(layer));
  b.set_output(node, 0, b.layer_value(t, x.shape, x.data_type, x.view, false));
}

void map_flatten(OnnxBuilder& b, const onnx::NodeProto& node) {
  const OnnxAttributes attrs(node, b.file());
  const OnnxValue& x = any_input(b, node, 0);
  // Flatten's axis lies in [-r, r]; a negative one counts from r.
  std::int64_t axis_value = attrs.integer("axis", 1);
  const auto rank = static_cast<std::int64_t>(x.shape.size());
  if (axis_value < -rank || axis_value > rank) {
    throw InputError(attrs.where("axis") + ": " + std::to_string(axis_value) + " is outside [-" +
                     std::to_string(rank) + ", " + std::to_string(rank) + "]");
  }
  const auto axis = static_cast<std::size_t>(axis_value < 0 ? axis_value + rank : axis_value);
  std::int64_t outer = 1, inner = 1;
  for (std::size_t d = 0; d < x.shape.size(); ++d) (d < axis ? outer : inner) *= x.shape[d];
  b.set_output(node, 0, alias(x, {outer, inner}));
}

void map_reshape(OnnxBuilder& b, const onnx::NodeProto& node) {
  const OnnxAttributes attrs(node, b.file());
  const OnnxValue& x = any_input(b, node, 0);
  const OnnxTensor& target = b.constant_input(node, 1, "the shape");
  if (target.data_type != static_cast<int>(OnnxElementType::int64)) {
    throw InputError(b.where(node) + "shape: expected INT64 values");
  }
  const bool allow_zero = attrs.integer("allowzero", 0) != 0;
  OnnxDims out;
  int infer = -1;
  std::int64_t known = 1;
  for (std::size_t d = 0; d < target.i.size(); ++d) {
    std::int64_t v = target.i[d];
    if (v == 0 && !allow_zero) {
      if (d >= x.shape.size()) throw InputError(b.where(node) + "shape: 0 at position " + std::to_string(d) + " beyond the input's rank");
      v = x.shape[d];
    }
    if (v == -1) {
      if (infer >= 0) throw InputError(b.where(node) + "shape: more than one -1");
      infer = static_cast<int>(d);
    } else if (v <= 0) {
      throw OnnxUnsupported("shape " + dims_text(target.i) + " gives an empty tensor or is invalid");
    } else {
      known *= v;
    }
    out.push_back(v);
  }
  const std::int64_t count = element_count(x.shape);
  if (infer >= 0) {
    if (count % known != 0) {
      throw InputError(b.where(node) + "mismatched shapes: cannot reshape " + shape_text(x.shape) + " to " +
                       dims_text(target.i));
    }
    out[static_cast<std::size_t>(infer)] = count / known;
  }
  if (element_count(out) != count) {
    throw InputError(b.where(node) + "mismatched shapes: cannot reshape " + shape_text(x.shape) + " (" +
                     std::to_string(count) + " elements) to " + shape_text(out));
  }
  b.set_output(node, 0, alias(x, std::move(out)));
}

void map_batchnorm(OnnxBuilder& b, const onnx::NodeProto& node) {
  const OnnxAttributes attrs(node, b.file());
  const OnnxValue& x = real_input(b, node, 0);
  if (attrs.integer("training_mode", 0) != 0 || node.output_size() > 1) {
    throw OnnxUnsupported("training mode (batch statistics) is not supported");
  }
  if (b.view().opset() < 9 && attrs.integer("spatial", 1) == 0) {
    throw OnnxUnsupported("spatial=0 is not supported");
  }
  const bool foldable = x.direct_layer >= 0 && b.consumers(node.input(0)) == 1 &&
                        b.graph().layers[static_cast<std::size_t>(x.direct_layer)].type == LayerType::conv2d &&
                        b.graph().layers[static_cast<std::size_t>(x.direct_layer)].activation == Activation::none &&
                        !b.layer_quant()[static_cast<std::size_t>(x.direct_layer)];
  if (!foldable) {
    throw OnnxUnsupported("not preceded by a Conv (without activation) whose output only it reads; "
                          "npusim folds BatchNormalization into the conv");
  }
  Layer& conv = b.graph().layers[static_cast<std::size_t>(x.direct_layer)];
  const std::int64_t n = conv.conv.out_channels;
  const char* names[] = {"scale", "B", "input_mean", "input_var"};
  std::vector<const OnnxTensor*> p;
  for (int i = 1; i <= 4; ++i) {
    const OnnxTensor& t = b.constant_input(node, i, names[i - 1]);
    if (!t.is_float() || t.elements() != n) {
      throw InputError(b.where(node) + names[i - 1] + ": expected " + std::to_string(n) + " FLOAT values, got " +
                       shape_text(t.dims));
    }
    p.push_back(&t);
  }
  const double epsilon = attrs.real("epsilon", 1e-5f);
  const auto k_len = conv.weights.size() / static_cast<std::size_t>(n);
  if (!conv.has_bias) conv.bias.assign(static_cast<std::size_t>(n), 0.0f);
  for (std::int64_t c = 0; c < n; ++c) {
    const auto i = static_cast<std::size_t>(c);
    const double var = p[3]->f[i];
    if (!(var + epsilon > 0.0)) {
      throw InputError(b.where(node) + "input_var[" + std::to_string(c) + "] + epsilon must be positive");
    }
    // w' = w * gamma / sqrt(var + eps); b' = (b - mean) * gamma / sqrt(var + eps) + beta,
    // in double, each rounded to fp32 once.
    const double factor = double{p[0]->f[i]} / std::sqrt(var + epsilon);
    for (std::size_t k = 0; k < k_len; ++k) {
      float& w = conv.weights[i * k_len + k];
      w = static_cast<float>(double{w} * factor);
    }
    conv.bias[i] = static_cast<float>((double{conv.bias[i]} - double{p[2]->f[i]}) * factor + double{p[1]->f[i]});
  }
  conv.has_bias = true;
  OnnxValue out = x;  // still the conv's direct output: a Relu may fuse
  b.set_output(node, 0, std::move(out));
}

void map_identity(OnnxBuilder& b, const onnx::NodeProto& node) {
  const OnnxValue& x = any_input(b, node, 0);
  if (node.op_type() == "Dropout") {
    if (node.output_size() > 1 && !node.output(1).empty() && b.consumers(node.output(1)) > 0) {
      throw OnnxUnsupported("the mask output is not supported");
    }
    if (b.has_input(node, 2)) {
      const OnnxTensor& training = b.constant_input(node, 2, "training_mode");
      if (training.elements() == 1 && training.value(0) != 0.0) {
        throw OnnxUnsupported("training_mode=true is not supported");
      }
    }
  }
  b.set_output(node, 0, alias(x, x.shape));
}

}  // namespace

void require_single_row(const OnnxDims& shape, const std::string& what) {
  for (std::size_t d = 0; d + 1 < shape.size(); ++d) {
    if (shape[d] != 1) {
      throw OnnxUnsupported(what + " has shape " + shape_text(shape) +
                            " (more than one row: batch > 1); npusim runs batch 1");
    }
  }
}

OnnxTensor matmul_b_matrix(const OnnxBuilder& b, const OnnxTensor& bt, const OnnxValue& a) {
  const std::size_t rank = bt.dims.size();
  if (rank == 2) return bt;
  if (rank < 2) throw OnnxUnsupported("B has shape " + shape_text(bt.dims) + "; only a matrix B maps to an fc layer");
  // A's batch dims: under rows_as_batch a value of the input's rank has the
  // file input's leading dims (every row-wise op keeps them).
  const OnnxRowBatch& rows = b.view().row_batch();
  const OnnxDims& a_dims = rows.rows > 1 && !rows.transposed && a.shape.size() == rows.file_shape.size()
                               ? rows.file_shape
                               : a.shape;
  const std::size_t a_batch = a_dims.size() < 2 ? 0 : a_dims.size() - 2;
  const std::size_t b_batch = rank - 2;
  bool broadcasts = b_batch <= a_batch;
  for (std::size_t j = 0; broadcasts && j < b_batch; ++j) {
    const std::int64_t bd = bt.dims[b_batch - 1 - j], ad = a_dims[a_batch - 1 - j];
    broadcasts = bd == 1 || bd == ad;
  }
  if (!broadcasts) {
    throw OnnxUnsupported("batched MatMul: B " + shape_text(bt.dims) + " adds batch dims to A " +
                          shape_text(a_dims) + " (the output would have more rows than A)");
  }
  const std::int64_t k = bt.dims[rank - 2], n = bt.dims[rank - 1];
  const auto slice = static_cast<std::size_t>(k * n);
  const auto count = static_cast<std::size_t>(bt.elements());
  const bool is_float = bt.is_float();
  for (std::size_t j = slice; j < count; ++j) {
    if (is_float ? bt.f[j] != bt.f[j % slice] : bt.i[j] != bt.i[j % slice]) {
      throw OnnxUnsupported("batched MatMul: B " + shape_text(bt.dims) +
                            " holds a different [K, N] matrix per batch (an fc layer has one weight matrix)");
    }
  }
  OnnxTensor m;
  m.name = bt.name;
  m.dims = {k, n};
  m.data_type = bt.data_type;
  if (is_float) m.f.assign(bt.f.begin(), bt.f.begin() + static_cast<std::ptrdiff_t>(slice));
  else m.i.assign(bt.i.begin(), bt.i.begin() + static_cast<std::ptrdiff_t>(slice));
  return m;
}

OnnxValue add_conv_layer(OnnxBuilder& b, const onnx::NodeProto& node, const OnnxValue& x,
                         const OnnxDims& w_dims, std::vector<float> weights, std::vector<float> bias) {
  const OnnxAttributes attrs(node, b.file());
  const Spatial in = spatial_of(x);
  if (w_dims.size() != x.shape.size()) {
    throw InputError(b.where(node) + "mismatched shapes: weights " + shape_text(w_dims) + " for input " +
                     shape_text(x.shape));
  }
  const std::int64_t groups = attrs.integer("group", 1);
  const std::int64_t filters = w_dims[0];
  if (groups < 1 || in.channels % groups != 0 || filters % groups != 0 || w_dims[1] * groups != in.channels) {
    throw InputError(b.where(node) + "mismatched shapes: input " + shape_text(x.shape) + ", weights " +
                     shape_text(w_dims) + ", group " + std::to_string(groups));
  }
  std::vector<std::int64_t> kernel(w_dims.begin() + 2, w_dims.end());
  if (attrs.has("kernel_shape") && attrs.integers("kernel_shape", {}) != kernel) {
    throw InputError(attrs.where("kernel_shape") + ": " + dims_text(attrs.integers("kernel_shape", {})) +
                     " does not match the weights " + shape_text(w_dims));
  }
  if (!bias.empty() && static_cast<std::int64_t>(bias.size()) != filters) {
    throw InputError(b.where(node) + "bias: expected " + std::to_string(filters) + " values, got " +
                     std::to_string(bias.size()));
  }
  const Window w = read_window(b, node, in, kernel, false);
  Layer layer;
  layer.name = b.layer_name(node);
  layer.type = LayerType::conv2d;
  auto& c = layer.conv;
  c.out_channels = filters;
  c.kernel_h = static_cast<int>(w.kernel_h), c.kernel_w = static_cast<int>(w.kernel_w);
  c.stride_h = static_cast<int>(w.stride_h), c.stride_w = static_cast<int>(w.stride_w);
  c.pad_top = static_cast<int>(w.pad_top), c.pad_left = static_cast<int>(w.pad_left);
  c.pad_bottom = static_cast<int>(w.pad_bottom), c.pad_right = static_cast<int>(w.pad_right);
  c.dilation_h = static_cast<int>(w.dilation_h), c.dilation_w = static_cast<int>(w.dilation_w);
  c.groups = static_cast<int>(groups);
  layer.has_bias = !bias.empty();
  layer.weights = std::move(weights);
  layer.bias = std::move(bias);
  layer.output_dims = {filters, w.out_h, w.out_w};
  const int input = b.with_dims(x, in.dims());
  layer.inputs = {b.tensors()[static_cast<std::size_t>(input)].name};
  const int t = b.add_layer(std::move(layer));
  return b.layer_value(t, spatial_shape(in, filters, w.out_h, w.out_w), kFloat, OnnxView::real, true);
}

OnnxValue add_fc_layer(OnnxBuilder& b, const onnx::NodeProto& node, const OnnxValue& a, std::int64_t n,
                       std::vector<float> weights, std::vector<float> bias) {
  require_single_row(a.shape, "the input");
  Layer layer;
  layer.name = b.layer_name(node);
  layer.type = LayerType::fc;
  layer.fc.out_features = n;
  layer.has_bias = !bias.empty();
  layer.weights = std::move(weights);
  layer.bias = std::move(bias);
  layer.output_dims = {n, 1, 1};
  layer.inputs = {b.tensors()[static_cast<std::size_t>(a.tensor)].name};
  const int t = b.add_layer(std::move(layer));
  OnnxDims shape = a.shape;
  if (shape.empty()) shape.push_back(n);
  else shape.back() = n;
  return b.layer_value(t, std::move(shape), kFloat, OnnxView::real, true);
}

bool is_float_op(const std::string& op_type) {
  static const std::set<std::string> ops = {
      "Conv", "Gemm", "MatMul", "Relu", "Clip", "MaxPool", "AveragePool", "GlobalAveragePool",
      "GlobalMaxPool", "Add", "Concat", "Flatten", "Reshape", "BatchNormalization", "Softmax",
      "Identity", "Dropout"};
  return ops.count(op_type) > 0;
}

void map_float_node(OnnxBuilder& b, const onnx::NodeProto& node) {
  const std::string& op = node.op_type();
  if (op == "Conv") return map_conv(b, node);
  if (op == "Gemm") return map_gemm(b, node);
  if (op == "MatMul") return map_matmul(b, node);
  if (op == "Relu") return map_relu(b, node);
  if (op == "Clip") return map_clip(b, node);
  if (op == "MaxPool") return map_pool(b, node, false, false);
  if (op == "AveragePool") return map_pool(b, node, true, false);
  if (op == "GlobalAveragePool") return map_pool(b, node, true, true);
  if (op == "GlobalMaxPool") return map_pool(b, node, false, true);
  if (op == "Add") return map_add(b, node);
  if (op == "Concat") return map_concat(b, node);
  if (op == "Softmax") return map_softmax(b, node);
  if (op == "Flatten") return map_flatten(b, node);
  if (op == "Reshape") return map_reshape(b, node);
  if (op == "BatchNormalization") return map_batchnorm(b, node);
  if (op == "Identity" || op == "Dropout") return map_identity(b, node);
  throw std::logic_error("map_float_node: " + op);
}

}  // namespace npusim
