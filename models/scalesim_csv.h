// Imports a SCALE-Sim (v2) topology CSV, so that users of that tool can run
// their networks as they are. The reading rules are SCALE-Sim's
// (scalesim/topology_utils.py), so that a file means here what it means there:
//
// - Line 1 is the header and is skipped, whatever it says (SCALE-Sim never
//   reads it: "Layer, IFMAP Width, IFMAP Width, ...", non-breaking spaces,
//   a "batch size" column are all fine). Blank lines are skipped.
// - A row is split at commas; each field loses the whitespace Python's strip()
//   removes (including U+00A0). SCALE-Sim drops a row's last field, which is
//   empty when the row ends with a comma, as SCALE-Sim writes rows. For a row
//   without that trailing comma npusim drops the last value too, as SCALE-Sim
//   does, when the rest is a complete row; when the rest would be too short
//   (SCALE-Sim then stops with an IndexError or an assertion), it keeps it.
// - A conv row is: name, IFMAP height, IFMAP width, filter height, filter
//   width, channels, filters, stride, then optionally the stride width (else
//   the stride applies to both) and optionally an N:M sparsity ratio (in the
//   9th field, a value with ':' is the ratio). A GEMM row is: name, M, N, K,
//   optional N:M ratio. Which form a file has is told by its first row's
//   field count (4-5: GEMM, 8-10: conv; SCALE-Sim is told by its -i flag), and
//   every row must have the same form.
// - A row whose name contains "DP" (case-sensitive) is depthwise: SCALE-Sim
//   runs it as C one-channel layers of N filters each.
//
// Where SCALE-Sim would stop with a Python exception on a file that has a
// plain meaning, npusim reads it: rows of empty fields (",,,,,,,,", a
// spreadsheet's blank row), text from a '#' after the first comma (a comment;
// SCALE-Sim's own files tag rows "#dw" after the last comma, which SCALE-Sim
// drops as the last field), lines that start with '#'. What SCALE-Sim stops on
// for want of a meaning is an error: a label row or template letters where
// numbers go, a tab-separated file, a filter larger than the IFMAP.
//
// Rows become single-layer Graphs, each with its own input shape (SCALE-Sim
// layers are independent: pooling and padding between rows are not described):
//   conv row -> input [C, H, W], one conv2d with N filters, R x S kernel and
//               the row's strides, no bias, no activation. SCALE-Sim has no
//               padding but rounds the output size up, OH = ceil((H - R + stride)
//               / stride); when the stride does not divide H - R, the conv2d gets
//               the overhang of the last window as bottom (right) padding, so
//               that its shape and MACs are SCALE-Sim's. A "DP" row is one
//               conv2d with groups = C and C * N filters.
//   GEMM row -> input [K, 1, M], one 1x1 conv2d with N filters: M output
//               pixels, reduction K, N outputs. No bias, no activation.
// Values may be as large as int holds; the element, weight and MAC counts of
// a row at most 2^48 each and a file's MACs at most 2^62, so that no count or
// sum overflows 64 bits. Whether a run of that size fits in memory and time is
// the resource estimate's decision (sim/commands/resource_estimate.h).
//
// Weights follow docs/network_format.md with the row index as the layer
// index: row i draws He-uniform weights from stream_seed(seed, i). Each Graph
// has graph.seed == seed, graph.name and its layer named after the row (a row
// with an empty name is named "line <n>"), and input_name "<row name>.ifmap".
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "models/graph.h"

namespace npusim {

// One Graph per CSV row, in file order. Bad input throws InputError with one
// line: "<file>:<line>: field <n> (<title>): expected ..., got ...".
// `before_weights`, when set, sees every row's graph before any weights are drawn.
std::vector<Graph> load_scalesim_csv(const std::string& path, std::uint64_t seed,
                                     const std::function<void(const std::vector<const Graph*>&)>& before_weights = {});

}  // namespace npusim
