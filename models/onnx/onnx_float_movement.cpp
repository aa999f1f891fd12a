#include <algorithm>
#include <numeric>
#include <utility>
#include <vector>

#include "models/input_error.h"
#include "models/onnx/onnx_builder.h"
#include "models/onnx/onnx_float_common.h"
#include "models/onnx/onnx_proto.h"

// Transpose, Split and Slice of runtime tensors: transpose and slice layers
// (models/graph.h), data moved by the PPU without arithmetic, so integer
// tensors pass too and keep their quantization.

namespace npusim::onnx_float {
namespace {

const OnnxIrTensor& ir(const OnnxBuilder& b, int tensor) { return b.tensors()[static_cast<std::size_t>(tensor)]; }

// A slice layer taking [begin, end) of ONNX axis `axis` of x; the output
// value has `out_shape`.
OnnxValue slice_layer(OnnxBuilder& b, const std::string& name, const OnnxValue& x, std::size_t axis, std::int64_t begin,
                      std::int64_t end) {
  std::int64_t outer = 1, inner = 1;
  for (std::size_t d = 0; d < x.shape.size(); ++d) {
    if (d < axis) outer *= x.shape[d];
    if (d > axis) inner *= x.shape[d];
  }
  int input = x.tensor, ir_axis = -1;
  for (int j = 2; j >= 0; --j) {
    if (splits_at(ir(b, x.tensor).dims, j, outer, x.shape[axis], inner)) ir_axis = j;
  }
  if (ir_axis < 0) {
    input = b.with_dims(x, {outer, x.shape[axis], inner});
    ir_axis = 1;
  }
  Layer layer;
  layer.name = name;
  layer.type = LayerType::slice;
  layer.axis = ir_axis;
  layer.slice = {begin, end};
  layer.inputs = {ir(b, input).name};
  layer.output_dims = ir(b, input).dims;
  layer.output_dims[static_cast<std::size_t>(ir_axis)] = end - begin;
  const int t = b.add_layer(std::move(layer));
  OnnxDims shape = x.shape;
  shape[axis] = end - begin;
  return b.layer_value(t, std::move(shape), x.data_type, x.view, false);
}

std::vector<std::int64_t> int64_input(OnnxBuilder& b, const onnx::NodeProto& node, int index, const char* what) {
  const OnnxTensor& t = b.constant_input(node, index, what);
  if (t.data_type != static_cast<int>(OnnxElementType::int64) &&
      t.data_type != static_cast<int>(OnnxElementType::int32)) {
    throw InputError(b.where(node) + what + ": expected INT64 or INT32 values");
  }
  std::vector<std::int64_t> v;
  for (std::int64_t k = 0; k < t.elements(); ++k) v.push_back(static_cast<std::int64_t>(t.value(k)));
  return v;
}

}  // namespace

// Transpose: axes of extent 1 are set aside and input axes that stay
// adjacent in the permutation merged; what remains (at most 3 axes) is a
// transpose layer of {C, H, W}, or no layer when nothing moves. A channel
// shuffle, Reshape [1, g, C/g, H, W] -> Transpose(0, 2, 1, 3, 4) -> Reshape,
// is the transpose {1, 0, 2} of {g, C/g, H*W}.
void map_transpose(OnnxBuilder& b, const onnx::NodeProto& node) {
  const OnnxAttributes attrs(node, b.file());
  const OnnxValue& x = any_input(b, node, 0);
  const std::size_t rank = x.shape.size();
  std::vector<std::int64_t> perm(rank);
  std::iota(perm.rbegin(), perm.rend(), 0);  // default: reversed
  perm = attrs.integers("perm", perm);
  std::vector<std::int64_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t d = 0; d < sorted.size(); ++d) {
    if (sorted.size() != rank || sorted[d] != static_cast<std::int64_t>(d)) {
      throw InputError(attrs.where("perm") + ": " + dims_text(perm) + " is not a permutation of the " +
                       std::to_string(rank) + " axes");
    }
  }
  OnnxDims out_shape;
  for (const auto p : perm) out_shape.push_back(x.shape[static_cast<std::size_t>(p)]);
  // Groups of input axes (extent > 1) that move together, in output order.
  std::vector<std::pair<std::int64_t, std::int64_t>> groups;  // (first input axis, extent)
  std::int64_t previous = -2;
  for (const auto p : perm) {
    const std::int64_t e = x.shape[static_cast<std::size_t>(p)];
    if (e == 1) continue;
    if (p == previous + 1 && !groups.empty()) {
      groups.back().second *= e;
    } else {
      groups.emplace_back(p, e);
    }
    previous = p;
  }
  if (groups.size() > 3) {
    throw OnnxUnsupported("perm " + dims_text(perm) + " of " + shape_text(x.shape) +
                          " moves more than 3 groups of axes (the IR is {C, H, W})");
  }
  std::vector<std::size_t> by_input(groups.size());  // output group indices in input order
  std::iota(by_input.begin(), by_input.end(), 0);
  std::sort(by_input.begin(), by_input.end(),
            [&](std::size_t a, std::size_t c) { return groups[a].first < groups[c].first; });
  bool moves = false;
  for (std::size_t k = 0; k < by_input.size(); ++k) moves = moves || by_input[k] != k;
  if (!moves) {
    b.set_output(node, 0, alias(x, out_shape));
    return;
  }
  OnnxDims in_dims(3, 1), out_dims(3, 1);
  Layer layer;
  layer.perm = {0, 1, 2};
  for (std::size_t k = 0; k < by_input.size(); ++k) in_dims[k] = groups[by_input[k]].second;
  for (std::size_t a = 0; a < groups.size(); ++a) {
    out_dims[a] = groups[a].second;
    const auto from = std::find(by_input.begin(), by_input.end(), a) - by_input.begin();
    layer.perm[a] = static_cast<int>(from);
  }
  const int input = b.with_dims(x, in_dims);
  layer.name = b.layer_name(node);
  layer.type = LayerType::transpose;
  layer.inputs = {ir(b, input).name};
  layer.output_dims = out_dims;
  const int t = b.add_layer(std::move(layer));
  b.set_output(node, 0, b.layer_value(t, std::move(out_shape), x.data_type, x.view, false));
}

// Split into contiguous pieces along one axis: a slice layer per output that
// any node reads. Sizes from the "split" input (opset 13) or attribute,
// else equal pieces.
void map_split(OnnxBuilder& b, const onnx::NodeProto& node) {
  const OnnxAttributes attrs(node, b.file());
  const OnnxValue& x = any_input(b, node, 0);
  const auto axis = static_cast<std::size_t>(normalize_axis(attrs.integer("axis", 0), x.shape.size(), b.where(node)));
  std::vector<std::int64_t> sizes =
      b.has_input(node, 1) ? int64_input(b, node, 1, "split") : attrs.integers("split", {});
  const auto pieces = static_cast<std::int64_t>(node.output_size());
  if (sizes.empty()) {
    if (pieces == 0 || x.shape[axis] % pieces != 0) {
      throw InputError(b.where(node) + "axis " + std::to_string(axis) + " of " + shape_text(x.shape) +
                       " does not split into " + std::to_string(pieces) + " equal pieces");
    }
    sizes.assign(static_cast<std::size_t>(pieces), x.shape[axis] / pieces);
  }
  if (static_cast<std::int64_t>(sizes.size()) != pieces ||
      std::accumulate(sizes.begin(), sizes.end(), std::int64_t{0}) != x.shape[axis] ||
      std::any_of(sizes.begin(), sizes.end(), [](std::int64_t s) { return s <= 0; })) {
    throw InputError(b.where(node) + "split " + dims_text(sizes) + " does not divide axis " + std::to_string(axis) +
                     " of " + shape_text(x.shape) + " into " + std::to_string(pieces) + " positive pieces");
  }
  std::int64_t begin = 0;
  for (int k = 0; k < node.output_size(); ++k) {
    const std::int64_t end = begin + sizes[static_cast<std::size_t>(k)];
    if (!node.output(k).empty() && b.consumers(node.output(k)) > 0) {
      b.set_output(node, k, slice_layer(b, node.output(k), x, axis, begin, end));
    }
    begin = end;
  }
}

// Slice with steps of 1 that cuts one axis (the others whole): a slice
// layer; a Slice that cuts nothing is the same tensor.
void map_slice(OnnxBuilder& b, const onnx::NodeProto& node) {
  const OnnxValue& x = any_input(b, node, 0);
  if (b.view().opset() < 10) throw OnnxUnsupported("Slice before opset 10 (attributes) on a runtime tensor");
  const auto starts = int64_input(b, node, 1, "starts");
  const auto ends = int64_input(b, node, 2, "ends");
  std::vector<std::int64_t> axes = b.has_input(node, 3) ? int64_input(b, node, 3, "axes") : std::vector<std::int64_t>{};
  const std::vector<std::int64_t> steps =
      b.has_input(node, 4) ? int64_input(b, node, 4, "steps") : std::vector<std::int64_t>{};
  if (axes.empty()) {
    for (std::size_t k = 0; k < starts.size(); ++k) axes.push_back(static_cast<std::int64_t>(k));
  }
  if (ends.size() != starts.size() || axes.size() != starts.size() ||
      (!steps.empty() && steps.size() != starts.size())) {
    throw InputError(b.where(node) + "starts, ends, axes and steps differ in length");
  }
  int cut = -1;
  std::int64_t begin = 0, end = 0;
  for (std::size_t k = 0; k < starts.size(); ++k) {
    const auto d = static_cast<std::size_t>(normalize_axis(axes[k], x.shape.size(), b.where(node)));
    const std::int64_t n = x.shape[d];
    const auto wrap = [n](std::int64_t v) { return std::clamp<std::int64_t>(v < 0 ? v + n : v, 0, n); };
    const std::int64_t s = wrap(starts[k]), e = wrap(ends[k]);
    const std::int64_t step = steps.empty() ? 1 : steps[k];
    if (s == 0 && e == n && step == 1) continue;
    if (step != 1) throw OnnxUnsupported("steps other than 1 on a runtime tensor are not supported");
    if (e <= s) throw OnnxUnsupported("an empty slice is not supported");
    if (cut >= 0) throw OnnxUnsupported("slicing more than one axis of a runtime tensor is not supported");
    cut = static_cast<int>(d);
    begin = s;
    end = e;
  }
  if (cut < 0) {
    b.set_output(node, 0, alias(x, x.shape));
    return;
  }
  b.set_output(node, 0, slice_layer(b, b.layer_name(node), x, static_cast<std::size_t>(cut), begin, end));
}

}  // namespace npusim::onnx_float
