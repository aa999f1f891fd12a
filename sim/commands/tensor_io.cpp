#include "sim/commands/tensor_io.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "models/input_error.h"
#include "models/npy_io.h"

namespace npusim {
namespace {

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string text = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + (shape.size() == 1 ? ",)" : ")");
}

}  // namespace

std::vector<Tensor> read_input_samples(const std::string& path, const Graph& graph, const std::string& option) {
  NpyArray array;
  try {
    array = read_npy(path);
  } catch (const InputError& error) {
    throw InputError(option + " " + error.what());
  }
  const std::vector<std::int64_t>& dims = graph.input_dims;
  std::vector<std::int64_t> batched{-1};
  batched.insert(batched.end(), dims.begin(), dims.end());
  const bool one = array.shape == dims;
  const bool many = array.shape.size() == dims.size() + 1 &&
                    std::equal(dims.begin(), dims.end(), array.shape.begin() + 1) && array.shape[0] > 0;
  if (array.type != NpyType::f32 || (!one && !many)) {
    throw InputError(option + " " + path + ": expected float32 of shape " + shape_text(dims) + " or (N, " +
                     shape_text(dims).substr(1) + " (the graph input), got " + to_string(array.type) + " " +
                     shape_text(array.shape));
  }
  const std::int64_t count = one ? 1 : array.shape[0];
  std::int64_t size = 1;
  for (const auto d : dims) size *= d;
  std::vector<Tensor> samples(static_cast<std::size_t>(count));
  for (std::int64_t n = 0; n < count; ++n) {
    Tensor& t = samples[static_cast<std::size_t>(n)];
    t.dims = dims;
    t.f.resize(static_cast<std::size_t>(size));
    std::memcpy(t.f.data(), array.bytes.data() + n * size * 4, static_cast<std::size_t>(size) * 4);
  }
  return samples;
}

void check_outputs_directory(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (!fs::is_directory(dir, error)) {
    const fs::path parent = fs::path(dir).parent_path();
    if (!parent.empty() && !fs::is_directory(parent, error)) {
      throw InputError("--outputs " + dir + ": directory " + parent.string() + " does not exist");
    }
    if (!fs::create_directory(dir, error) && !fs::is_directory(dir)) {
      throw InputError("--outputs " + dir + ": cannot create the directory (" + error.message() + ")");
    }
  }
  const std::string probe = (fs::path(dir) / ".npusim_write_test.tmp").string();
  const bool writable = static_cast<bool>(std::ofstream(probe));
  std::remove(probe.c_str());
  if (!writable) throw InputError("--outputs " + dir + ": cannot write files in the directory");
}

std::vector<float> output_values_fp32(const Tensor& t) {
  if (!is_integer_class(t.format)) return t.f;
  std::vector<float> real;
  real.reserve(t.q.size());
  for (const std::int8_t q : t.q) {
    real.push_back(static_cast<float>(q - t.quant.zero_point) * static_cast<float>(t.quant.scale));
  }
  return real;
}

void write_outputs(const std::string& dir, const Graph& graph, const std::vector<Tensor>& outputs) {
  write_layer_outputs(dir, graph.layers.back(), outputs);
}

std::vector<std::size_t> dump_layer_indices(const std::string& list, const Graph& graph,
                                            const std::string& model_path) {
  std::vector<std::size_t> indices;
  if (list == "all") {
    for (std::size_t i = 0; i < graph.layers.size(); ++i) indices.push_back(i);
    return indices;
  }
  std::size_t begin = 0;
  while (begin <= list.size()) {
    const std::size_t comma = std::min(list.find(',', begin), list.size());
    const std::string name = list.substr(begin, comma - begin);
    const auto it =
        std::find_if(graph.layers.begin(), graph.layers.end(), [&](const Layer& l) { return l.name == name; });
    if (it == graph.layers.end()) {
      throw InputError("--dump-layers: " + model_path + " has no layer named '" + name + "' (give names, or all)");
    }
    indices.push_back(static_cast<std::size_t>(it - graph.layers.begin()));
    begin = comma + 1;
  }
  return indices;
}

void write_layer_outputs(const std::string& dir, const Layer& last, const std::vector<Tensor>& outputs) {
  std::vector<std::int64_t> shape{static_cast<std::int64_t>(outputs.size())};
  const bool vector = last.type == LayerType::fc || last.type == LayerType::flatten;
  if (vector) {
    shape.push_back(last.output_dims[0] * last.output_dims[1] * last.output_dims[2]);
  } else {
    shape.insert(shape.end(), last.output_dims.begin(), last.output_dims.end());
  }
  std::vector<float> real;
  std::vector<std::int8_t> levels;
  for (const Tensor& t : outputs) {
    const std::vector<float> values = output_values_fp32(t);
    real.insert(real.end(), values.begin(), values.end());
    if (is_integer_class(t.format)) levels.insert(levels.end(), t.q.begin(), t.q.end());
  }
  // ONNX names such as "/fc/Gemm" become "_fc_Gemm": one file in DIR.
  std::string name = last.name;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') c = '_';
  }
  const std::filesystem::path base = std::filesystem::path(dir) / name;
  write_npy(base.string() + ".npy", npy_float32(shape, real));
  if (!levels.empty()) write_npy(base.string() + ".int8.npy", npy_int8(shape, levels));
}

}  // namespace npusim
