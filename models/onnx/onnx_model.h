// The ONNX importer's full result: the LoadedModel plus what a caller needs
// to feed the graph input and read the graph output in the file's own terms
// (element types, shapes, quantization). load_onnx_model (onnx_import.h) is
// import_onnx(path).model.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "models/model_loader.h"
#include "models/onnx/onnx_reader.h"

namespace npusim {

// How an ONNX graph input or output relates to its IR tensor.
enum class OnnxView {
  real,         // real values: fp32, or the dequantized view of a quantized tensor
  integer,      // the quantized integers (uint8 / int8 in the file, int8 in the IR)
  accumulator,  // ConvInteger / MatMulInteger int32 output: the IR layer's accumulators
};

struct OnnxTensorInfo {
  std::string name;
  int data_type = 0;                // ONNX TensorProto.DataType
  std::vector<std::int64_t> shape;  // the ONNX shape (batch included)
  OnnxView view = OnnxView::real;
  // Quantized graphs: the tensor's quantization in the file's terms (a uint8
  // zero point as in the file; the IR's int8 zero point is 128 lower). For
  // the real view of a quantized tensor (DequantizeLinear's output), the zero
  // point of the integer type the file quantized it to.
  double scale = 1.0;
  std::int32_t zero_point = 0;
};

struct OnnxImportOptions {
  // Serialized TensorProto files (an ONNX test's input_*.pb) that bind graph
  // inputs as constants, each to the input its TensorProto.name names:
  // weights given as graph inputs become initializers.
  std::vector<std::string> constant_input_files;
  // The same from tensors in memory; one here wins over a file of the same name.
  std::vector<OnnxTensor> constant_inputs;
  // Takes the rows of the runtime input as independent batch-1 inferences: an
  // input [..., M, K] is imported as one row [1, ..., 1, K] (a Gemm with
  // transA reading the input: [K, M] as one column [K, 1]), and the declared
  // output as one row. Only for graphs whose every node keeps rows apart
  // (Gemm, MatMul, QLinearMatMul, MatMulInteger, QuantizeLinear,
  // DequantizeLinear, Relu, Clip, Identity, Dropout); others are an InputError.
  bool rows_as_batch = false;
  // rows_as_batch: the row the model is for. Only a Gemm whose bias C has one
  // row per row of A makes the model depend on it (OnnxRows::model_per_row).
  std::int64_t row = 0;
  // Full shapes of graph inputs by name (`--input-shape`): they fix dynamic
  // dimensions; a static dimension must agree, and a name that is not the
  // runtime input is an error.
  std::map<std::string, std::vector<std::int64_t>> input_shapes;
};

// What rows_as_batch made of the input.
struct OnnxRows {
  std::int64_t count = 1;      // the file's input holds `count` rows; feed them one per inference
  bool transposed = false;     // row i is column i of the file's input (a Gemm's transA)
  bool model_per_row = false;  // import once per row (OnnxImportOptions::row): a per-row Gemm bias
};

struct OnnxImport {
  LoadedModel model;
  OnnxTensorInfo input;
  OnnxTensorInfo output;
  OnnxRows rows;  // input and output shapes above are one row's
};

OnnxImport import_onnx(const std::string& path, const OnnxImportOptions& options = {});

}  // namespace npusim
