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

// Conv, Gemm, MatMul onto conv2d and fc layers; BatchNormalization folded
// into the conv2d / fc before it, else a per-channel `scale` layer.

namespace npusim::onnx_float {
void map_conv(OnnxBuilder& b, const onnx::NodeProto& node) {
  const OnnxValue& x = real_input(b, node, 0, true);
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
    throw InputError(b.where(node) + "mismatched shapes: A " + shape_text(a.shape) + " and B " + shape_text(bt.dims) +
                     " (transA " + std::to_string(trans_a) + ", transB " + std::to_string(trans_b) + ")");
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
      throw InputError(b.where(node) + "C: expected FLOAT values broadcastable to [" + std::to_string(rows.rows) +
                       ", " + std::to_string(n) + "], got " + shape_text(c.dims));
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
    for (std::int64_t j = 0; j < k; ++j)
      weights[static_cast<std::size_t>(i * k + j)] = bt.f[static_cast<std::size_t>(j * n + i)];
  }
  OnnxValue out = add_fc_layer(b, node, a, n, std::move(weights), {});
  attach_file_quantization(b, node, out, bv, nullptr, 1);
  b.set_output(node, 0, std::move(out));
}

namespace {

// BatchNormalization's per-channel factor gamma / sqrt(var + eps) and shift
// beta - mean * factor, in double from the fp32 parameters.
struct ChannelAffine {
  std::vector<double> factor, shift, mean, beta;
};

ChannelAffine read_batchnorm(OnnxBuilder& b, const onnx::NodeProto& node, std::int64_t n) {
  const OnnxAttributes attrs(node, b.file());
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
  ChannelAffine a;
  for (std::int64_t c = 0; c < n; ++c) {
    const auto i = static_cast<std::size_t>(c);
    const double var = p[3]->f[i];
    if (!(var + epsilon > 0.0)) {
      throw InputError(b.where(node) + "input_var[" + std::to_string(c) + "] + epsilon must be positive");
    }
    const double factor = double{p[0]->f[i]} / std::sqrt(var + epsilon);
    a.factor.push_back(factor);
    a.mean.push_back(p[2]->f[i]);
    a.beta.push_back(p[1]->f[i]);
    a.shift.push_back(double{p[1]->f[i]} - double{p[2]->f[i]} * factor);
  }
  return a;
}

// w' = w * factor; b' = (b - mean) * factor + beta, each rounded to fp32 once.
void fold_into(Layer& layer, const ChannelAffine& a) {
  const auto n = a.factor.size();
  const auto k_len = layer.weights.size() / n;
  if (!layer.has_bias) layer.bias.assign(n, 0.0f);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t k = 0; k < k_len; ++k) {
      float& w = layer.weights[i * k_len + k];
      w = static_cast<float>(double{w} * a.factor[i]);
    }
    layer.bias[i] = static_cast<float>((double{layer.bias[i]} - a.mean[i]) * a.factor[i] + a.beta[i]);
  }
  layer.has_bias = true;
}

}  // namespace

// Folded into the conv2d / fc whose direct output it normalizes when nothing
// else reads that output; otherwise a per-channel affine `scale` layer on
// the post-processing unit (DenseNet's BatchNormalization after Concat).
void map_batchnorm(OnnxBuilder& b, const onnx::NodeProto& node) {
  const OnnxAttributes attrs(node, b.file());
  const OnnxValue& x = real_input(b, node, 0);
  if (attrs.integer("training_mode", 0) != 0 || node.output_size() > 1) {
    throw OnnxUnsupported("training mode (batch statistics) is not supported");
  }
  if (b.view().opset() < 9 && attrs.integer("spatial", 1) == 0) {
    throw OnnxUnsupported("spatial=0 is not supported");
  }
  if (x.shape.size() < 2 || x.shape[0] != 1) {
    throw OnnxUnsupported("input " + shape_text(x.shape) + ": expected [1, C, ...] (npusim runs batch 1)");
  }
  const std::int64_t n = x.shape[1];
  const ChannelAffine affine = read_batchnorm(b, node, n);
  Layer* producer = x.direct_layer >= 0 ? &b.graph().layers[static_cast<std::size_t>(x.direct_layer)] : nullptr;
  const bool foldable =
      producer && b.consumers(node.input(0)) == 1 &&
      ((producer->type == LayerType::conv2d && producer->conv.out_channels == n) ||
       (producer->type == LayerType::fc && producer->fc.out_features == n && element_count(x.shape) == n)) &&
      producer->activation == Activation::none && !b.layer_quant()[static_cast<std::size_t>(x.direct_layer)];
  if (foldable) {
    fold_into(*producer, affine);
    OnnxValue out = x;  // still the producer's direct output: a Relu may fuse
    b.set_output(node, 0, std::move(out));
    return;
  }
  Layer layer;
  layer.name = b.layer_name(node);
  layer.type = LayerType::scale;
  for (std::size_t c = 0; c < affine.factor.size(); ++c) {
    layer.weights.push_back(static_cast<float>(affine.factor[c]));
    layer.bias.push_back(static_cast<float>(affine.shift[c]));
  }
  layer.has_bias = true;
  const OnnxDims dims =
      x.shape.size() == 4 ? OnnxDims{n, x.shape[2], x.shape[3]} : OnnxDims{n, element_count(x.shape) / n, 1};
  layer.output_dims = dims;
  const int input = b.with_dims(x, dims);
  layer.inputs = {b.tensors()[static_cast<std::size_t>(input)].name};
  const int t = b.add_layer(std::move(layer));
  b.set_output(node, 0, b.layer_value(t, x.shape, kFloat, OnnxView::real, false));
}

}  // namespace npusim::onnx_float

namespace npusim {

using namespace onnx_float;  // the shared helpers

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
  const OnnxDims& a_dims =
      rows.rows > 1 && !rows.transposed && a.shape.size() == rows.file_shape.size() ? rows.file_shape : a.shape;
  const std::size_t a_batch = a_dims.size() < 2 ? 0 : a_dims.size() - 2;
  const std::size_t b_batch = rank - 2;
  bool broadcasts = b_batch <= a_batch;
  for (std::size_t j = 0; broadcasts && j < b_batch; ++j) {
    const std::int64_t bd = bt.dims[b_batch - 1 - j], ad = a_dims[a_batch - 1 - j];
    broadcasts = bd == 1 || bd == ad;
  }
  if (!broadcasts) {
    throw OnnxUnsupported("batched MatMul: B " + shape_text(bt.dims) + " adds batch dims to A " + shape_text(a_dims) +
                          " (the output would have more rows than A)");
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
  if (is_float)
    m.f.assign(bt.f.begin(), bt.f.begin() + static_cast<std::ptrdiff_t>(slice));
  else
    m.i.assign(bt.i.begin(), bt.i.begin() + static_cast<std::ptrdiff_t>(slice));
  return m;
}

OnnxValue add_conv_layer(OnnxBuilder& b, const onnx::NodeProto& node, const OnnxValue& x, const OnnxDims& w_dims,
                         std::vector<float> weights, std::vector<float> bias) {
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
  Window w = read_window(b, node, in, kernel, false);
  Spatial data = in;  // the IR tensor's layout: without a pending Pad's rows and columns
  if (x.pad) {
    w.pad_top += x.pad->top, w.pad_left += x.pad->left, w.pad_bottom += x.pad->bottom, w.pad_right += x.pad->right;
    data.height -= x.pad->top + x.pad->bottom;
    data.width -= x.pad->left + x.pad->right;
  }
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
  const int input = b.with_dims(x, data.dims());
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
  if (shape.empty())
    shape.push_back(n);
  else
    shape.back() = n;
  return b.layer_value(t, std::move(shape), kFloat, OnnxView::real, true);
}

}  // namespace npusim
