// Reading ONNX protobuf files: a whole model, or one TensorProto (the
// test_data_set_*/input_*.pb files of the ONNX conformance data), and the
// values of a TensorProto as plain vectors.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace onnx {
class ModelProto;
class TensorProto;
}  // namespace onnx

namespace npusim {

// ONNX element types the importer reads (TensorProto.DataType values).
enum class OnnxElementType : int {
  undefined = 0,
  float32 = 1,
  uint8 = 2,
  int8 = 3,
  int32 = 6,
  int64 = 7,
  bool_ = 9,
  float64 = 11,
};

std::string onnx_type_name(int data_type);

// A constant tensor's values. Float types fill `f`, integer types fill `i`.
struct OnnxTensor {
  std::string name;
  std::vector<std::int64_t> dims;
  int data_type = 0;  // TensorProto.DataType
  std::vector<float> f;
  std::vector<std::int64_t> i;

  bool is_float() const;
  std::int64_t elements() const;
  // Value j as a double, whichever vector holds it.
  double value(std::size_t j) const;
};

// Throws InputError("<file>: ...") when the file cannot be read or does not
// parse as a ModelProto (truncated or corrupt).
void read_model_proto(const std::string& path, onnx::ModelProto& model);

// `where` names the file and the field for error messages. Reads raw_data or
// the typed fields; external data, strings and unsupported element types are
// errors, as is a value count that does not match the dims.
OnnxTensor tensor_from_proto(const onnx::TensorProto& proto, const std::string& where);

// One serialized TensorProto (an input_*.pb / output_*.pb file).
OnnxTensor read_onnx_tensor_file(const std::string& path);

}  // namespace npusim
