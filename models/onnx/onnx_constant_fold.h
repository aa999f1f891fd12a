// Constant folding at import: a node whose inputs are all constants is
// evaluated when it is a Cast or ConstantOfShape (torch 1.13 builds every bias
// zero point as Cast(ConstantOfShape([1]), to=INT32)) or one of the shape ops
// of onnx_shape_fold.h (Identity, Shape, Gather, Concat, Unsqueeze, Squeeze,
// Slice, Reshape, integer Add/Sub/Mul/Div). Internal to the ONNX importer.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "models/onnx/onnx_reader.h"

namespace onnx {
class NodeProto;
}

namespace npusim {

// The op types fold_constant_node can evaluate.
bool is_foldable_op(const std::string& op_type);

// The value of `node`'s one output when it is a foldable op and every
// (non-omitted) input is a constant (`constant(name)` returns nullptr for a runtime
// value); std::nullopt otherwise. Throws InputError (naming `file` and the
// node) for a value that does not fit the target type, an unsupported target
// type or a shape that is not a 1-D INT64 tensor of non-negative sizes.
std::optional<OnnxTensor> fold_constant_node(const onnx::NodeProto& node,
                                             const std::function<const OnnxTensor*(const std::string&)>& constant,
                                             const std::string& file, std::int64_t opset = 13);

}  // namespace npusim
