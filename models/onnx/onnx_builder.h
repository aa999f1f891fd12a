// The state of one ONNX import: every ONNX value (constant or runtime), the IR
// graph being built, and the quantization the file gives each IR tensor.
// Internal to the ONNX importer; the op mappings (onnx_float_ops.cpp,
// onnx_quant_ops.cpp) add layers through it.
//
// Layout rule: an IR tensor holds the same values in the same (row-major)
// order as the ONNX tensor it stands for; only its {C, H, W} dims are chosen
// by the importer (canonical_dims). Ops whose meaning depends on the layout
// (conv, pooling) ask for the dims they need, and the builder inserts a
// reshape layer (which moves no data) when a tensor has other dims.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/graph.h"
#include "models/onnx/onnx_graph.h"
#include "models/onnx/onnx_model.h"
#include "models/onnx/onnx_reader.h"
#include "models/quant/quantized_graph.h"

namespace onnx {
class NodeProto;
}

namespace npusim {

using OnnxDims = std::vector<std::int64_t>;

// A feature of one node that the IR cannot represent. The importer collects
// these for every node and reports them all in one InputError.
class OnnxUnsupported : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Quantization of an IR tensor in the IR's int8 terms: a uint8 tensor's zero
// point is shifted by -128 (its values too), which changes no real value.
struct OnnxQuant {
  double scale = 1.0;
  std::int32_t zero_point = 0;
};
bool operator==(const OnnxQuant& a, const OnnxQuant& b);

// An integer constant read through DequantizeLinear: the file's integers and
// parameters (per tensor, or per slice along `axis`).
struct OnnxDequantized {
  int data_type = 0;                      // UINT8, INT8 or INT32
  std::vector<std::int64_t> values;       // as in the file
  std::vector<double> scales;             // 1 or dims[axis] entries
  std::vector<std::int64_t> zero_points;  // as in the file, same count as scales
  int axis = 0;
};

// Zero padding of a Pad node not yet applied: the value's shape is the padded
// one, its IR tensor the unpadded data. Only a Conv reads such a value (it
// adds the pads to its own); any other reader is an unsupported node.
struct OnnxPendingPad {
  std::int64_t top = 0, left = 0, bottom = 0, right = 0;
  std::string node;  // describe_node of the Pad, for messages
};

struct OnnxValue {
  // Constants: the values (dequantized, for a DequantizeLinear of a constant).
  std::shared_ptr<const OnnxTensor> constant;
  std::shared_ptr<const OnnxDequantized> dequantized;
  // Runtime values.
  int tensor = -1;  // index into OnnxBuilder::tensors()
  OnnxDims shape;   // the ONNX shape
  int data_type = 0;
  OnnxView view = OnnxView::real;
  // The layer whose output this value is, straight from the node that made
  // the layer (so a following Relu or BatchNormalization may fuse into it).
  int direct_layer = -1;
  std::optional<OnnxPendingPad> pad;

  bool is_constant() const { return constant != nullptr; }
};

struct OnnxIrTensor {
  std::string name;  // the layer's name, or the graph input's
  OnnxDims dims;     // {C, H, W}
  int layer = -1;    // producing layer; -1 for the graph input
  std::optional<OnnxQuant> quant;
  std::string quant_source;  // the node that set `quant`, for messages
  int quant_type = 0;        // the file's integer type for it (UINT8 or INT8), 0 when unknown
};

// The file's own quantization of a conv2d / fc layer, int8 terms.
struct OnnxLayerQuant {
  std::vector<std::int8_t> weights;                     // dims as Layer::weights
  std::vector<double> weight_scales;                    // 1 (per tensor) or one per output channel
  std::vector<std::int32_t> weight_zero_points;         // same count as weight_scales
  std::optional<std::vector<std::int32_t>> bias_int32;  // the file's int32 bias
  std::vector<double> bias_scales;                      // its scale(s), which should be s_in * s_w[n]
  bool accumulator_output = false;                      // ConvInteger / MatMulInteger: no requantization
};

// {C, H, W} of an ONNX shape: a leading 1 (batch) is dropped when the rank is
// at least 2; what remains is padded with trailing 1s to rank 3, or its leading
// dimensions are merged into C above rank 3. [1, C, H, W] -> {C, H, W};
// [1, K] -> {K, 1, 1}; [3, 4, 5] -> {3, 4, 5}; [2, 3] -> {2, 3, 1}.
OnnxDims canonical_dims(const OnnxDims& shape);
std::int64_t element_count(const OnnxDims& dims);
std::string dims_text(const OnnxDims& dims);

class OnnxBuilder {
 public:
  explicit OnnxBuilder(const OnnxGraphView& view);

  const OnnxGraphView& view() const { return view_; }
  const std::string& file() const { return view_.file(); }
  // "<file>: node \"x\" (Conv): " for messages.
  std::string where(const onnx::NodeProto& node) const;

  // Input `index` of `node`; nullptr for an omitted optional input. Throws
  // InputError when a required one is missing (`required`).
  const OnnxValue* input(const onnx::NodeProto& node, int index, bool required = true) const;
  // A runtime input; one with a pending Pad only when `allow_pad` (a Conv).
  const OnnxValue& runtime_input(const onnx::NodeProto& node, int index, bool allow_pad = false) const;
  const OnnxTensor& constant_input(const onnx::NodeProto& node, int index, const std::string& what) const;
  bool has_input(const onnx::NodeProto& node, int index) const;
  void set_output(const onnx::NodeProto& node, int index, OnnxValue value);
  void set_value(const std::string& name, OnnxValue value);
  bool is_poisoned(const onnx::NodeProto& node) const;
  void poison_outputs(const onnx::NodeProto& node);

  // Appends a layer (its name made unique from `name`) producing a new IR tensor.
  int add_layer(Layer layer);
  // The IR tensor of `value` with dims `dims`, through a reshape layer when needed.
  int with_dims(const OnnxValue& value, const OnnxDims& dims);
  // A new runtime value for the output of layer-producing tensor `tensor`.
  OnnxValue layer_value(int tensor, OnnxDims shape, int data_type, OnnxView view, bool direct) const;

  // Records the quantization of IR tensor `tensor`, or checks it against the
  // one already recorded; `where` names the node and field on a mismatch.
  // `data_type` is the file's integer type of the quantized tensor (0: unknown).
  void set_quant(int tensor, const OnnxQuant& quant, const std::string& where, int data_type = 0);

  std::vector<OnnxIrTensor>& tensors() { return tensors_; }
  const std::vector<OnnxIrTensor>& tensors() const { return tensors_; }
  Graph& graph() { return graph_; }
  std::vector<std::optional<OnnxLayerQuant>>& layer_quant() { return layer_quant_; }
  const OnnxValue* find_value(const std::string& name) const;
  // How many nodes read ONNX value `name` (the graph output counts as one).
  int consumers(const std::string& name) const { return view_.consumers(name); }
  // Layer name for a node: its name, else its first output.
  std::string layer_name(const onnx::NodeProto& node) const;

 private:
  const OnnxGraphView& view_;
  Graph graph_;
  std::vector<OnnxIrTensor> tensors_;
  std::vector<std::optional<OnnxLayerQuant>> layer_quant_;
  std::map<std::string, OnnxValue> values_;
  std::map<std::string, int> used_names_;
  std::map<std::string, bool> poisoned_;
};

// A conv2d layer for a Conv, QLinearConv or ConvInteger node (attributes
// read from `node`) over runtime input `x`; `w_dims` are the ONNX weight dims
// {M, C/groups, kh[, kw]}, `weights` and `bias` fp32 (bias empty for none).
// Returns the output value (real view, FLOAT).
OnnxValue add_conv_layer(OnnxBuilder& b, const onnx::NodeProto& node, const OnnxValue& x, const OnnxDims& w_dims,
                         std::vector<float> weights, std::vector<float> bias);
// An fc layer for a Gemm / MatMul-like node whose runtime input `a` has shape
// [..., 1, K] (one row); `weights` {N, K}. Output shape a.shape[:-1] + [N].
OnnxValue add_fc_layer(OnnxBuilder& b, const onnx::NodeProto& node, const OnnxValue& a, std::int64_t n,
                       std::vector<float> weights, std::vector<float> bias);
// The rows a MatMul-like node computes for input shape `shape` ([..., M, K]):
// throws OnnxUnsupported unless every dimension but the last is 1.
void require_single_row(const OnnxDims& shape, const std::string& what);
// B of a MatMul-like node whose runtime input is `a`, as a [K, N] matrix: a
// 2-D B as is; a B of higher rank only when all its [K, N] slices are equal
// and its batch dims broadcast into A's (so every row of A meets the same
// matrix and the output has A's rows). Otherwise throws OnnxUnsupported.
OnnxTensor matmul_b_matrix(const OnnxBuilder& b, const OnnxTensor& bt, const OnnxValue& a);

// When the weights `w` of the conv2d / fc layer behind `out` come from a
// DequantizeLinear of an integer initializer (a QDQ graph), records the file's
// integers, scales and zero points for the layer, and the int32 bias when
// `bias` is also dequantized. `channel_axis` is the weights' output-channel
// axis in the file (0 for Conv and a transposed Gemm B, 1 for MatMul's B).
void attach_file_quantization(OnnxBuilder& b, const onnx::NodeProto& node, const OnnxValue& out, const OnnxValue& w,
                              const OnnxValue* bias, int channel_axis);

// The QuantizedGraph of a graph whose file carries its own quantization:
// int8 MacFormat, the file's scales and zero points. Throws InputError when a
// tensor has no quantization or a layer's quantization cannot be represented.
QuantizedGraph build_file_quantized_graph(OnnxBuilder& b);

// Op mappings: each adds the node's layers and outputs to the builder, or
// throws OnnxUnsupported (a feature the IR lacks) or InputError (a bad file).
bool is_float_op(const std::string& op_type);
void map_float_node(OnnxBuilder& b, const onnx::NodeProto& node);
bool is_quant_op(const std::string& op_type);
void map_quant_node(OnnxBuilder& b, const onnx::NodeProto& node);

}  // namespace npusim
