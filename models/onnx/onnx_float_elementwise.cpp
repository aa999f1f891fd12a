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

// Add (a bias fold, a constant operand or a residual add), Mul, Concat, Softmax and LogSoftmax.

namespace npusim::onnx_float {
namespace {

// Folds a constant per-channel addend into the bias of the conv2d / fc layer
// that made `x`; false when it does not fit.
bool fold_bias_add(OnnxBuilder& b, const onnx::NodeProto& node, const OnnxValue& x, const OnnxTensor& c, int x_index) {
  if (x.direct_layer < 0 || b.consumers(node.input(x_index)) != 1 || !c.is_float()) return false;
  Layer& layer = b.graph().layers[static_cast<std::size_t>(x.direct_layer)];
  if (layer.activation != Activation::none || b.layer_quant()[static_cast<std::size_t>(x.direct_layer)]) return false;
  const std::int64_t n = layer.type == LayerType::fc       ? layer.fc.out_features
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

}  // namespace

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
                          " to " + shape_text(shape) +
                          " is not supported (a constant operand may not enlarge the "
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
  layer.inputs = {b.tensors()[static_cast<std::size_t>(a.tensor)].name,
                  b.tensors()[static_cast<std::size_t>(second)].name};
  layer.output_dims = dims;
  const int t = b.add_layer(std::move(layer));
  b.set_output(node, 0, b.layer_value(t, a.shape, a.data_type, a.view, true));
}

// Mul of two runtime tensors of one shape, or of [1, C, H, W] by [1, C, 1, 1]
// (either order: squeeze-and-excite's channel gate); a constant operand
// becomes a constant layer of the other's shape, as for Add.
void map_mul(OnnxBuilder& b, const onnx::NodeProto& node) {
  const OnnxValue& x0 = *b.input(node, 0);
  const OnnxValue& x1 = *b.input(node, 1);
  std::optional<OnnxValue> constant;
  if (x0.is_constant() != x1.is_constant()) {
    const int runtime = x0.is_constant() ? 1 : 0;
    const OnnxValue& x = real_input(b, node, runtime);
    constant = constant_layer(b, node, 1 - runtime, x.shape, b.tensors()[static_cast<std::size_t>(x.tensor)].dims);
  }
  const OnnxValue* a = constant && x0.is_constant() ? &*constant : &real_input(b, node, 0);
  const OnnxValue* c = constant && x1.is_constant() ? &*constant : &real_input(b, node, 1);
  const auto gate_of = [](const OnnxDims& big, const OnnxDims& small) {
    return big.size() == 4 && small.size() == 4 && big[0] == 1 && small[0] == 1 && small[1] == big[1] &&
           small[2] == 1 && small[3] == 1;
  };
  if (a->shape != c->shape && gate_of(c->shape, a->shape)) std::swap(a, c);
  const bool gate = a->shape != c->shape;
  if (gate && !gate_of(a->shape, c->shape)) {
    throw OnnxUnsupported("broadcasting " + shape_text(a->shape) + " * " + shape_text(c->shape) +
                          " is not supported (same shapes, or [1, C, H, W] * [1, C, 1, 1])");
  }
  Layer layer;
  layer.name = b.layer_name(node);
  layer.type = LayerType::mul;
  const OnnxDims dims =
      gate ? OnnxDims{a->shape[1], a->shape[2], a->shape[3]} : b.tensors()[static_cast<std::size_t>(a->tensor)].dims;
  const int first = b.with_dims(*a, dims);
  const int second = b.with_dims(*c, gate ? OnnxDims{a->shape[1], 1, 1} : dims);
  layer.inputs = {b.tensors()[static_cast<std::size_t>(first)].name,
                  b.tensors()[static_cast<std::size_t>(second)].name};
  layer.output_dims = dims;
  const int t = b.add_layer(std::move(layer));
  b.set_output(node, 0, b.layer_value(t, a->shape, a->data_type, a->view, false));
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
                       shape_text(first) + ", input " + std::to_string(i) + " is " + onnx_type_name(xs[i]->data_type) +
                       " " + shape_text(s) + " (concat axis " + std::to_string(axis) + ")");
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
  const auto axis =
      static_cast<std::size_t>(normalize_axis(attrs.integer("axis", legacy ? 1 : -1), x.shape.size(), b.where(node)));
  std::int64_t outer = 1, length = 1, inner = 1;
  for (std::size_t d = 0; d < x.shape.size(); ++d) {
    if (d < axis)
      outer *= x.shape[d];
    else if (d == axis || legacy)
      length *= x.shape[d];
    else
      inner *= x.shape[d];
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
  layer.type = node.op_type() == "LogSoftmax" ? LayerType::log_softmax : LayerType::softmax;
  layer.axis = ir_axis;
  layer.inputs = {b.tensors()[static_cast<std::size_t>(input)].name};
  layer.output_dims = b.tensors()[static_cast<std::size_t>(input)].dims;
  const int t = b.add_layer(std::move(layer));
  b.set_output(node, 0, b.layer_value(t, x.shape, x.data_type, x.view, false));
}

}  // namespace npusim::onnx_float
