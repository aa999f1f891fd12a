// `npusim run --input x.npy --outputs DIR`: the user's input samples in, the
// graph output out, as NumPy .npy files (models/npy_io.h).
#pragma once

#include <string>
#include <vector>

#include "models/graph.h"
#include "models/tensor.h"

namespace npusim {

// The samples of `path` as fp32 graph inputs {C, H, W}: a float32 array of
// shape (C, H, W) is one sample, (N, C, H, W) is N. Throws InputError
// "OPTION PATH: ..." (one line) for any other dtype or shape.
std::vector<Tensor> read_input_samples(const std::string& path, const Graph& graph,
                                       const std::string& option = "--input");

// Creates DIR if its parent exists and checks a file can be written in it;
// InputError "--outputs DIR: ..." otherwise. Call before the simulation.
void check_outputs_directory(const std::string& dir);

// A tensor's values as float32: a float-class tensor's own values; an
// integer-class one dequantized as ONNX's DequantizeLinear does,
// float(q - zp) * float(s) (per-tensor scale).
std::vector<float> output_values_fp32(const Tensor& tensor);

// DIR/<output layer>.npy: the graph output of every sample, dequantized to
// float32 as ONNX's DequantizeLinear does (float(q - zp) * float(s)), and
// for integer outputs DIR/<output layer>.int8.npy, the stored int8 levels;
// shape (N, C, H, W), or (N, K) for an fc or flatten output. Each file is
// written atomically.
void write_outputs(const std::string& dir, const Graph& graph, const std::vector<Tensor>& outputs);

// The same for any layer (`--dump-layers`): DIR/<layer>.npy and DIR/<layer>.int8.npy.
void write_layer_outputs(const std::string& dir, const Layer& layer, const std::vector<Tensor>& outputs);

// The layers `--dump-layers` names ("all", or a comma-separated list of
// names): their indices in graph order. InputError for an unknown name.
std::vector<std::size_t> dump_layer_indices(const std::string& list, const Graph& graph, const std::string& model_path);

}  // namespace npusim
