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
#include "models/onnx/onnx_shape_fold.h"

// Flatten, Reshape, Squeeze/Unsqueeze, Pad and Identity/Dropout: views of the same data, no layer of
// their own unless the layout changes.

namespace npusim::onnx_float {
void map_flatten(OnnxBuilder& b, const onnx::NodeProto& node) {
  const OnnxAttributes attrs(node, b.file());
  const OnnxValue& x = any_input(b, node, 0);
  // Flatten's axis lies in [-r, r]; a negative one counts from r.
  std::int64_t axis_value = attrs.integer("axis", 1);
  const auto rank = static_cast<std::int64_t>(x.shape.size());
  if (axis_value < -rank || axis_value > rank) {
    throw InputError(attrs.where("axis") + ": " + std::to_string(axis_value) + " is outside [-" + std::to_string(rank) +
                     ", " + std::to_string(rank) + "]");
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
      if (d >= x.shape.size())
        throw InputError(b.where(node) + "shape: 0 at position " + std::to_string(d) + " beyond the input's rank");
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

// Squeeze / Unsqueeze of a runtime tensor: the same data under the shape the
// constant fold computes for it (onnx_shape_fold.cpp), so both agree.
void map_squeeze(OnnxBuilder& b, const onnx::NodeProto& node) {
  const OnnxValue& x = any_input(b, node, 0);
  OnnxTensor shape_only;
  shape_only.dims = x.shape;
  shape_only.data_type = kFloat;
  std::vector<const OnnxTensor*> inputs{&shape_only};
  if (b.has_input(node, 1)) inputs.push_back(&b.constant_input(node, 1, "axes"));
  const auto folded = fold_shape_op(node, inputs, b.file(), b.view().opset());
  b.set_output(node, 0, alias(x, folded->dims));
}

// Pad: all-zero pads are the same tensor; zero (constant 0) padding of H and
// W is left pending for the Conv that reads it (OnnxPendingPad), which adds
// it to its own. Other modes, values and axes have no IR layer.
void map_pad(OnnxBuilder& b, const onnx::NodeProto& node) {
  const OnnxAttributes attrs(node, b.file());
  const OnnxValue& x = real_input(b, node, 0);
  const std::string mode = attrs.text("mode", "constant");
  if (mode != "constant") {
    throw OnnxUnsupported("mode \"" + mode + "\" is not supported (only mode \"constant\" with value 0)");
  }
  std::vector<std::int64_t> pads;
  double value = 0.0;
  if (b.view().opset() >= 11) {
    const OnnxTensor& p = b.constant_input(node, 1, "pads");
    if (p.data_type != static_cast<int>(OnnxElementType::int64))
      throw InputError(b.where(node) + "pads: expected INT64 values");
    pads = p.i;
    if (b.has_input(node, 2)) {
      const OnnxTensor& v = b.constant_input(node, 2, "constant_value");
      if (v.elements() != 1) throw InputError(b.where(node) + "constant_value: expected one value");
      value = v.value(0);
    }
    if (b.has_input(node, 3)) throw OnnxUnsupported("the axes input (opset 18) is not supported");
  } else {
    pads = attrs.integers("pads", {});
    value = attrs.real("value", 0.0f);
  }
  const std::size_t rank = x.shape.size();
  if (pads.size() != 2 * rank) {
    throw InputError(b.where(node) + "pads: expected " + std::to_string(2 * rank) + " values for rank " +
                     std::to_string(rank) + ", got " + std::to_string(pads.size()));
  }
  if (std::all_of(pads.begin(), pads.end(), [](std::int64_t p) { return p == 0; })) {
    b.set_output(node, 0, alias(x, x.shape));
    return;
  }
  if (value != 0.0) throw OnnxUnsupported("constant value " + std::to_string(value) + " (only 0 folds into a Conv)");
  if (rank != 4 || pads[0] || pads[1] || pads[4] || pads[5] ||
      std::any_of(pads.begin(), pads.end(), [](std::int64_t p) { return p < 0; }) || x.pad) {
    throw OnnxUnsupported("pads " + dims_text(pads) +
                          " (only non-negative padding of H and W of [N, C, H, W] folds into a Conv)");
  }
  OnnxValue out = alias(x, {x.shape[0], x.shape[1], x.shape[2] + pads[2] + pads[6], x.shape[3] + pads[3] + pads[7]});
  out.pad = OnnxPendingPad{pads[2], pads[3], pads[6], pads[7], describe_node(node)};
  b.set_output(node, 0, std::move(out));
}

void map_identity(OnnxBuilder& b, const onnx::NodeProto& node) {
  if (node.op_type() == "Identity" && b.input(node, 0)->is_constant()) {
    // A constant the fold left alone (a DequantizeLinear's integers): the same value.
    b.set_output(node, 0, *b.input(node, 0));
    return;
  }
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

}  // namespace npusim::onnx_float
