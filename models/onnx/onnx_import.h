// Imports an ONNX model (parsed with Debian's libonnx protobuf classes) into
// the npusim IR: FP32 graphs, QDQ graphs (QuantizeLinear/DequantizeLinear
// around float ops) and QOperator graphs (QLinearConv, QLinearMatMul,
// ConvInteger, MatMulInteger).
#pragma once

#include <string>

#include "models/model_loader.h"

namespace npusim {

// Throws InputError("<file>: ...") for a truncated or corrupt file, a cycle,
// mismatched shapes, bad quantization parameters, or unsupported nodes (all of
// them listed by name and op type in one message).
LoadedModel load_onnx_model(const std::string& path);

}  // namespace npusim
