#include "models/onnx/onnx_constant_fold.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "models/bounded_read.h"
#include "models/input_error.h"
#include "models/onnx/onnx_graph.h"
#include "models/onnx/onnx_proto.h"
#include "models/onnx/onnx_shape_fold.h"

namespace npusim {
namespace {

// ConstantOfShape makes its output from a shape alone, so its size is not
// bounded by the file's: 2^24 elements (64 MiB of FLOAT) is far above the
// biases and masks torch.onnx writes with it.
constexpr std::int64_t kMaxConstantOfShapeElements = std::int64_t{1} << 24;

bool is_integer_type(int t) {
  return t == static_cast<int>(OnnxElementType::uint8) || t == static_cast<int>(OnnxElementType::int8) ||
         t == static_cast<int>(OnnxElementType::int32) || t == static_cast<int>(OnnxElementType::int64) ||
         t == static_cast<int>(OnnxElementType::bool_);
}

bool is_float_type(int t) {
  return t == static_cast<int>(OnnxElementType::float32) || t == static_cast<int>(OnnxElementType::float64);
}

// The range of an integer type, as doubles (exact for every type but INT64's ends).
std::pair<double, double> integer_range(int t) {
  switch (static_cast<OnnxElementType>(t)) {
    case OnnxElementType::uint8: return {0.0, 255.0};
    case OnnxElementType::int8: return {-128.0, 127.0};
    case OnnxElementType::int32: return {-2147483648.0, 2147483647.0};
    case OnnxElementType::bool_: return {0.0, 1.0};
    default: return {-9223372036854775808.0, 9223372036854775807.0};
  }
}

// `value`'s elements converted to `to`. Float to integer truncates toward zero
// (ONNX Cast); a value outside the target range is an error, not a wrap.
OnnxTensor convert(const OnnxTensor& value, int to, const std::string& where) {
  if (!is_integer_type(to) && !is_float_type(to)) {
    throw InputError(where + ": cast to " + onnx_type_name(to) + " is not supported");
  }
  OnnxTensor out;
  out.dims = value.dims;
  out.data_type = to;
  const auto n = static_cast<std::size_t>(value.elements());
  for (std::size_t j = 0; j < n; ++j) {
    const double v = value.value(j);
    if (is_float_type(to)) {
      out.f.push_back(static_cast<float>(v));
      continue;
    }
    if (to == static_cast<int>(OnnxElementType::bool_)) {
      out.i.push_back(v != 0.0 ? 1 : 0);
      continue;
    }
    const double t = std::trunc(v);
    const auto [lo, hi] = integer_range(to);
    if (!std::isfinite(t) || t < lo || t > hi) {
      throw InputError(where + ": value " + std::to_string(v) + " (entry " + std::to_string(j) + ") does not fit " +
                       onnx_type_name(to));
    }
    // An INT64 source is copied as is: the double above may have rounded it.
    out.i.push_back(value.is_float() ? static_cast<std::int64_t>(t) : value.i[j]);
  }
  return out;
}

OnnxTensor constant_of_shape(const onnx::NodeProto& node, const OnnxTensor& shape, const std::string& where) {
  if (shape.data_type != static_cast<int>(OnnxElementType::int64) || shape.dims.size() != 1) {
    throw InputError(where + ": input: expected a 1-D INT64 shape");
  }
  OnnxTensor fill;  // the default value: one FLOAT 0
  fill.data_type = static_cast<int>(OnnxElementType::float32);
  fill.f = {0.0f};
  for (const auto& a : node.attribute()) {
    if (a.name() != "value") continue;
    fill = tensor_from_proto(a.t(), where + ": attribute value");
    if (fill.elements() != 1) throw InputError(where + ": attribute value: expected one element");
  }
  OnnxTensor out;
  out.data_type = fill.data_type;
  std::int64_t count = 1;
  for (const std::int64_t d : shape.i) {
    if (d < 0) throw InputError(where + ": input: negative dimension " + std::to_string(d));
    out.dims.push_back(d);
    // Checked before anything is allocated: the shape is data in the file,
    // and 13 bytes of it can ask for gigabytes.
    count = checked_mul(count, d).value_or(kMaxConstantOfShapeElements + 1);
    if (count > kMaxConstantOfShapeElements) {
      throw InputError(where + ": output of over " + std::to_string(kMaxConstantOfShapeElements) +
                       " elements (2^24) is not supported (expected a shape of a bias or mask)");
    }
  }
  if (fill.is_float())
    out.f.assign(static_cast<std::size_t>(count), fill.f.at(0));
  else
    out.i.assign(static_cast<std::size_t>(count), fill.i.at(0));
  return out;
}

}  // namespace

bool is_foldable_op(const std::string& op_type) {
  return op_type == "Cast" || op_type == "ConstantOfShape" || is_shape_fold_op(op_type);
}

std::optional<OnnxTensor> fold_constant_node(const onnx::NodeProto& node,
                                             const std::function<const OnnxTensor*(const std::string&)>& constant,
                                             const std::string& file, std::int64_t opset) {
  const bool default_domain = node.domain().empty() || node.domain() == "ai.onnx";
  if (!default_domain || !is_foldable_op(node.op_type()) || node.input_size() < 1 || node.output_size() != 1) {
    return std::nullopt;
  }
  std::vector<const OnnxTensor*> inputs;
  for (const auto& name : node.input()) {
    if (name.empty()) {
      inputs.push_back(nullptr);
      continue;
    }
    inputs.push_back(constant(name));
    if (inputs.back() == nullptr) return std::nullopt;
  }
  const std::string where = file + ": " + describe_node(node);
  std::optional<OnnxTensor> out;
  if (node.op_type() == "Cast") {
    const OnnxAttributes attrs(node, file);
    if (!attrs.has("to")) throw InputError(where + ": attribute to: missing");
    out = convert(*inputs[0], static_cast<int>(attrs.integer("to", 0)), where);
  } else if (node.op_type() == "ConstantOfShape") {
    out = constant_of_shape(node, *inputs[0], where);
  } else {
    out = fold_shape_op(node, inputs, file, opset);
  }
  if (out) out->name = node.output(0);
  return out;
}

}  // namespace npusim
