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

// Flatten, Reshape and Identity/Dropout: views of the same data, no layer of
// their own unless the layout changes.

namespace npusim::onnx_float {
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


}  // namespace npusim::onnx_float
