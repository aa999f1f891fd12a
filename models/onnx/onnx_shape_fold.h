// Constant folding of the shape arithmetic torch.onnx writes around Reshape
// and Flatten (Shape -> Gather -> Unsqueeze -> Concat -> Reshape) and of
// Identity over an initializer (torch merges equal initializers behind
// Identity nodes): Identity, Shape, Gather, Concat, Unsqueeze, Squeeze,
// Slice, Reshape, and Add/Sub/Mul/Div of integer tensors, evaluated on
// constants with ONNX's semantics. Internal to models/onnx
// (onnx_constant_fold.cpp dispatches here).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "models/onnx/onnx_reader.h"

namespace onnx {
class NodeProto;
}

namespace npusim {

bool is_shape_fold_op(const std::string& op_type);

// `inputs[k]` is input k's value, nullptr for an omitted optional input;
// messages start with `file` and name the node. Returns std::nullopt
// when the op cannot be folded (a float Add, say, is left to the importer);
// throws InputError for a malformed node (an axis or index out of range,
// mismatched shapes).
std::optional<OnnxTensor> fold_shape_op(const onnx::NodeProto& node, const std::vector<const OnnxTensor*>& inputs,
                                        const std::string& file, std::int64_t opset);

// The value of Shape(x) for a tensor of shape `shape` (opset 15's start/end
// attributes honoured).
OnnxTensor shape_tensor(const onnx::NodeProto& node, const std::vector<std::int64_t>& shape, const std::string& file);

}  // namespace npusim
