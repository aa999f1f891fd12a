// Imports a SCALE-Sim (v2) topology CSV, so that users of that tool can run
// their networks as they are.
//
// Two forms, told apart by the header (case and spacing do not matter; a
// trailing comma is optional, as everywhere in the file):
//   conv: Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width,
//         Channels, Num Filter, Strides,
//         (or ..., Stride height, Stride width, as SCALE-Sim writes it back)
//   GEMM: Layer, M, N, K,            (the first column may be "Layer name")
// Either may end with SCALE-Sim's optional "Sparsity" column of N:M ratios;
// npusim models dense layers, so a row's ratio must be N:N (or absent).
//
// SCALE-Sim layers are independent: each row declares its own input shape, and
// pooling and padding between rows are not described. A Graph has one input, so
// each row becomes its own single-layer Graph:
//   conv row -> input [C, H, W], one conv2d with N filters, R x S kernel and
//               the row's stride, no bias, no activation. SCALE-Sim has no
//               padding but rounds the output size up, OH = ceil((H - R + stride)
//               / stride); when the stride does not divide H - R, the conv2d gets
//               the overhang of the last window as bottom (right) padding, so
//               that its shape and MACs are SCALE-Sim's. A row whose name
//               contains "DP" is depthwise, as SCALE-Sim reads it (C one-channel
//               layers of N filters each): one conv2d, groups = C, C * N filters.
//   GEMM row -> input [K, 1, M], one 1x1 conv2d with N filters: M output
//               pixels, reduction K, N outputs. No bias, no activation.
// Blank lines are skipped, and text from '#' to the end of a line is a comment
// (SCALE-Sim's own topologies tag depthwise rows with a trailing "#dw").
//
// Weights follow docs/network_format.md with the row index as the layer
// index: row i draws He-uniform weights from stream_seed(seed, i). Each Graph
// has graph.seed == seed, graph.name and its layer named after the row, and
// input_name "<row name>.ifmap".
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "models/graph.h"

namespace npusim {

// One Graph per CSV row, in file order. Bad input throws InputError with one
// line: "<file>:<line>: column <n> (<header title>): expected ..., got ...".
// `before_weights`, when set, sees every row's graph before any weights are drawn.
std::vector<Graph> load_scalesim_csv(const std::string& path, std::uint64_t seed,
                                     const std::function<void(const std::vector<const Graph*>&)>& before_weights = {});

}  // namespace npusim
