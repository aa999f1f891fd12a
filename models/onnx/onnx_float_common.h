// What the FP32 ONNX op mappers share (models/onnx/onnx_float_*.cpp, one file
// per op family): input checks, the spatial layout, the window geometry of
// Conv and the pools, and each family's mappers for the dispatch in
// onnx_float_ops.cpp. Internal to models/onnx; docs/onnx.md documents
// each mapping.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "models/onnx/onnx_builder.h"
#include "models/onnx/onnx_proto.h"

namespace npusim::onnx_float {

constexpr int kFloat = static_cast<int>(OnnxElementType::float32);
constexpr std::int64_t kMaxWindow = 1024;

// The spatial layout an op needs: [1, C, H, W] -> {C, H, W}; a 1-D op's
// [1, C, L] -> {C, L, 1} (the length runs down H).
struct Spatial {
  std::int64_t channels = 0, height = 0, width = 0;
  bool one_d = false;
  OnnxDims dims() const { return {channels, height, width}; }
};

// Window geometry of Conv and the pools.
struct Window {
  std::int64_t kernel_h = 1, kernel_w = 1;
  std::int64_t stride_h = 1, stride_w = 1;
  std::int64_t dilation_h = 1, dilation_w = 1;
  std::int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  std::int64_t out_h = 0, out_w = 0;
};

std::string shape_text(const OnnxDims& shape);

std::int64_t normalize_axis(std::int64_t axis, std::size_t rank, const std::string& where);

const OnnxValue& real_input(OnnxBuilder& b, const onnx::NodeProto& node, int index, bool allow_pad = false);

// Ops that move or select values without arithmetic also take integer tensors.
const OnnxValue& any_input(OnnxBuilder& b, const onnx::NodeProto& node, int index);

OnnxValue alias(const OnnxValue& in, OnnxDims shape);

Spatial spatial_of(const OnnxValue& x);

OnnxDims spatial_shape(const Spatial& in, std::int64_t channels, std::int64_t h, std::int64_t w);

// Reads kernel (given), strides, dilations, pads / auto_pad and computes the
// output size; `ceil_mode` rounds the output size up (pools), realized as extra
// bottom/right padding that no window reaches with zero input elements.
Window read_window(const OnnxBuilder& b, const onnx::NodeProto& node, const Spatial& in,
                   std::vector<std::int64_t> kernel, bool allow_ceil);

// Constant input `index` of `node` as a constant layer (models/graph.h): its
// FLOAT values broadcast by ONNX's (numpy) rules to `shape`, which they may
// not enlarge, and laid out under IR dims `dims` (row-major, like every IR
// tensor). Broadcasting materialises the full tensor: cheap for constants.
OnnxValue constant_layer(OnnxBuilder& b, const onnx::NodeProto& node, int index, const OnnxDims& shape,
                         const OnnxDims& dims);

// Whether the row-major data of IR dims `dims` splits at axis j into
// (outer, length, inner), as an ONNX tensor does along its op's axis.
bool splits_at(const OnnxDims& dims, int j, std::int64_t outer, std::int64_t length, std::int64_t inner);

// The mappers, by family: onnx_float_linear.cpp (Conv, Gemm, MatMul,
// BatchNormalization), onnx_float_activation.cpp (Relu, Clip, the pools),
// onnx_float_elementwise.cpp (Add, Concat, Softmax), onnx_float_shape.cpp
// (Flatten, Reshape, Squeeze/Unsqueeze, Identity/Dropout).
void map_conv(OnnxBuilder& b, const onnx::NodeProto& node);
void map_gemm(OnnxBuilder& b, const onnx::NodeProto& node);
void map_matmul(OnnxBuilder& b, const onnx::NodeProto& node);
void map_batchnorm(OnnxBuilder& b, const onnx::NodeProto& node);
void map_relu(OnnxBuilder& b, const onnx::NodeProto& node);
void map_clip(OnnxBuilder& b, const onnx::NodeProto& node);
void map_pool(OnnxBuilder& b, const onnx::NodeProto& node, bool average, bool global);
void map_reduce_mean(OnnxBuilder& b, const onnx::NodeProto& node);
void map_sigmoid(OnnxBuilder& b, const onnx::NodeProto& node);
void map_mul(OnnxBuilder& b, const onnx::NodeProto& node);
void map_add(OnnxBuilder& b, const onnx::NodeProto& node);
void map_concat(OnnxBuilder& b, const onnx::NodeProto& node);
void map_softmax(OnnxBuilder& b, const onnx::NodeProto& node);
void map_flatten(OnnxBuilder& b, const onnx::NodeProto& node);
void map_reshape(OnnxBuilder& b, const onnx::NodeProto& node);
void map_identity(OnnxBuilder& b, const onnx::NodeProto& node);
void map_squeeze(OnnxBuilder& b, const onnx::NodeProto& node);
void map_pad(OnnxBuilder& b, const onnx::NodeProto& node);
// onnx_float_functions.cpp: Tanh, LeakyRelu, HardSwish, PRelu, Sub, Div,
// ReduceSum / ReduceMax / ReduceMean (other than the spatial mean);
// onnx_float_movement.cpp: Transpose, Split, Slice; onnx_fusion.cpp: GELU.
void map_unary_function(OnnxBuilder& b, const onnx::NodeProto& node);
void map_prelu(OnnxBuilder& b, const onnx::NodeProto& node);
void map_sub_div(OnnxBuilder& b, const onnx::NodeProto& node);
void map_reduce(OnnxBuilder& b, const onnx::NodeProto& node);
void map_transpose(OnnxBuilder& b, const onnx::NodeProto& node);
void map_split(OnnxBuilder& b, const onnx::NodeProto& node);
void map_slice(OnnxBuilder& b, const onnx::NodeProto& node);

}  // namespace npusim::onnx_float
