#include "models/onnx/onnx_reader.h"

#include <cstring>
#include <fstream>
#include <iterator>

#include "models/bounded_read.h"
#include "models/input_error.h"
#include "models/onnx/onnx_proto.h"

namespace npusim {
namespace {

constexpr std::int64_t kMaxTensorElements = std::int64_t{1} << 31;

std::string read_file_bytes(const std::string& path) { return read_file_bounded(path, kMaxBinaryInputBytes, "ONNX"); }

int element_bytes(int data_type) {
  switch (static_cast<OnnxElementType>(data_type)) {
    case OnnxElementType::float32: return 4;
    case OnnxElementType::float64: return 8;
    case OnnxElementType::uint8:
    case OnnxElementType::int8:
    case OnnxElementType::bool_: return 1;
    case OnnxElementType::int32: return 4;
    case OnnxElementType::int64: return 8;
    case OnnxElementType::undefined: break;
  }
  return 0;
}

template <typename T>
T load_little_endian(const char* p) {
  // x86-64 and every platform Debian's protobuf supports here are little-endian,
  // the byte order raw_data is defined in.
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

void read_raw(const std::string& raw, int data_type, std::int64_t count, OnnxTensor& t, const std::string& where) {
  const int size = element_bytes(data_type);
  if (static_cast<std::int64_t>(raw.size()) != count * size) {
    throw InputError(where + ": raw_data holds " + std::to_string(raw.size()) + " bytes, expected " +
                     std::to_string(count * size) + " for " + std::to_string(count) + " elements of " +
                     onnx_type_name(data_type));
  }
  const char* p = raw.data();
  for (std::int64_t j = 0; j < count; ++j, p += size) {
    switch (static_cast<OnnxElementType>(data_type)) {
      case OnnxElementType::float32: t.f.push_back(load_little_endian<float>(p)); break;
      case OnnxElementType::float64: t.f.push_back(static_cast<float>(load_little_endian<double>(p))); break;
      case OnnxElementType::uint8: t.i.push_back(load_little_endian<std::uint8_t>(p)); break;
      case OnnxElementType::int8: t.i.push_back(load_little_endian<std::int8_t>(p)); break;
      case OnnxElementType::bool_: t.i.push_back(load_little_endian<std::uint8_t>(p) != 0 ? 1 : 0); break;
      case OnnxElementType::int32: t.i.push_back(load_little_endian<std::int32_t>(p)); break;
      case OnnxElementType::int64: t.i.push_back(load_little_endian<std::int64_t>(p)); break;
      case OnnxElementType::undefined: break;
    }
  }
}

void read_typed(const onnx::TensorProto& proto, int data_type, OnnxTensor& t) {
  switch (static_cast<OnnxElementType>(data_type)) {
    case OnnxElementType::float32: t.f.assign(proto.float_data().begin(), proto.float_data().end()); break;
    case OnnxElementType::float64:
      for (const double v : proto.double_data()) t.f.push_back(static_cast<float>(v));
      break;
    case OnnxElementType::int64: t.i.assign(proto.int64_data().begin(), proto.int64_data().end()); break;
    case OnnxElementType::uint8:
    case OnnxElementType::int8:
    case OnnxElementType::bool_:
    case OnnxElementType::int32: t.i.assign(proto.int32_data().begin(), proto.int32_data().end()); break;
    case OnnxElementType::undefined: break;
  }
}

}  // namespace

std::string onnx_type_name(int data_type) {
  if (onnx::TensorProto_DataType_IsValid(data_type)) {
    return onnx::TensorProto_DataType_Name(static_cast<onnx::TensorProto_DataType>(data_type));
  }
  return "data type " + std::to_string(data_type);
}

bool OnnxTensor::is_float() const {
  return data_type == static_cast<int>(OnnxElementType::float32) ||
         data_type == static_cast<int>(OnnxElementType::float64);
}

std::int64_t OnnxTensor::elements() const {
  std::int64_t n = 1;
  for (const auto d : dims) n *= d;
  return n;
}

double OnnxTensor::value(std::size_t j) const { return is_float() ? double{f.at(j)} : static_cast<double>(i.at(j)); }

void read_model_proto(const std::string& path, onnx::ModelProto& model) {
  const std::string bytes = read_file_bytes(path);
  if (bytes.empty()) throw InputError(path + ": empty file, expected an ONNX model");
  if (!model.ParseFromString(bytes)) {
    throw InputError(path + ": not a valid ONNX model (the protobuf does not parse: truncated or corrupt file)");
  }
  if (!model.has_graph()) throw InputError(path + ": ONNX model without a graph");
}

OnnxTensor tensor_from_proto(const onnx::TensorProto& proto, const std::string& where) {
  OnnxTensor t;
  t.name = proto.name();
  t.data_type = proto.data_type();
  if (proto.data_location() == onnx::TensorProto_DataLocation_EXTERNAL || proto.external_data_size() > 0) {
    throw InputError(where + ": tensor data stored in an external file is not supported");
  }
  if (element_bytes(t.data_type) == 0) {
    throw InputError(where + ": element type " + onnx_type_name(t.data_type) +
                     " is not supported (expected FLOAT, DOUBLE, UINT8, INT8, INT32, INT64 or BOOL)");
  }
  std::int64_t count = 1;
  for (const auto d : proto.dims()) {
    if (d < 0 || (d > 0 && count > kMaxTensorElements / d)) {
      throw InputError(where + ": dims must be non-negative with at most 2^31 elements");
    }
    t.dims.push_back(d);
    count *= d;
  }
  if (proto.has_raw_data()) {
    read_raw(proto.raw_data(), t.data_type, count, t, where);
  } else {
    read_typed(proto, t.data_type, t);
  }
  const auto held = static_cast<std::int64_t>(t.f.size() + t.i.size());
  if (held != count) {
    throw InputError(where + ": holds " + std::to_string(held) + " values, expected " + std::to_string(count) +
                     " for its dims");
  }
  return t;
}

OnnxTensor read_onnx_tensor_file(const std::string& path) {
  const std::string bytes = read_file_bytes(path);
  onnx::TensorProto proto;
  if (!proto.ParseFromString(bytes)) {
    throw InputError(path + ": not a valid ONNX TensorProto (truncated or corrupt file)");
  }
  return tensor_from_proto(proto, path);
}

}  // namespace npusim
