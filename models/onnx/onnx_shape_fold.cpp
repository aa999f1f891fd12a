#include "models/onnx/onnx_shape_fold.h"

#include <algorithm>
#include <limits>
#include <set>

#include "models/input_error.h"
#include "models/onnx/onnx_graph.h"
#include "models/onnx/onnx_proto.h"

namespace npusim {
namespace {

// A fold's output may exceed its inputs only by this much (Gather with
// repeated indices): 2^24 elements, as ConstantOfShape's cap.
constexpr std::int64_t kMaxGrowthElements = std::int64_t{1} << 24;

bool integer_type(int t) {
  return t == static_cast<int>(OnnxElementType::int64) || t == static_cast<int>(OnnxElementType::int32) ||
         t == static_cast<int>(OnnxElementType::int8) || t == static_cast<int>(OnnxElementType::uint8) ||
         t == static_cast<int>(OnnxElementType::bool_);
}

std::int64_t count_of(const std::vector<std::int64_t>& dims) {
  std::int64_t n = 1;
  for (const auto d : dims) n *= d;
  return n;
}

std::string dims_string(const std::vector<std::int64_t>& dims) {
  std::string text = "[";
  for (std::size_t k = 0; k < dims.size(); ++k) text += (k ? ", " : "") + std::to_string(dims[k]);
  return text + "]";
}

OnnxTensor empty_like(const OnnxTensor& in, std::vector<std::int64_t> dims) {
  OnnxTensor out;
  out.data_type = in.data_type;
  out.dims = std::move(dims);
  return out;
}

void push(OnnxTensor& out, const OnnxTensor& in, std::size_t j) {
  if (in.is_float())
    out.f.push_back(in.f[j]);
  else
    out.i.push_back(in.i[j]);
}

std::vector<std::int64_t> integers_of(const OnnxTensor& t, const std::string& where) {
  if (!integer_type(t.data_type))
    throw InputError(where + ": expected an integer tensor, got " + onnx_type_name(t.data_type));
  return t.i;
}

std::int64_t axis_in(std::int64_t axis, std::int64_t rank, const std::string& where) {
  if (axis < -rank || axis >= std::max<std::int64_t>(rank, 1)) {
    throw InputError(where + ": axis " + std::to_string(axis) + " is outside the rank " + std::to_string(rank));
  }
  return axis < 0 ? axis + rank : axis;
}

// (outer, length, inner) of `dims` around `axis`.
struct Blocks {
  std::int64_t outer = 1, length = 1, inner = 1;
};
Blocks blocks(const std::vector<std::int64_t>& dims, std::int64_t axis) {
  Blocks b;
  for (std::int64_t d = 0; d < static_cast<std::int64_t>(dims.size()); ++d) {
    const std::int64_t n = dims[static_cast<std::size_t>(d)];
    (d < axis ? b.outer : d == axis ? b.length : b.inner) *= n;
  }
  return b;
}

// Axes from input 1 (opset >= 13) or the `axes` attribute (older), for Squeeze / Unsqueeze.
std::optional<std::vector<std::int64_t>> axes_of(const std::vector<const OnnxTensor*>& in, const OnnxAttributes& attrs,
                                                 std::int64_t opset, const std::string& where) {
  if (opset >= 13) {
    if (in.size() > 1 && in[1]) return integers_of(*in[1], where + ": axes");
    return std::nullopt;
  }
  if (attrs.has("axes")) return attrs.integers("axes", {});
  return std::nullopt;
}

OnnxTensor gather(const OnnxTensor& data, const OnnxTensor& indices, std::int64_t axis_attr, const std::string& where) {
  const auto rank = static_cast<std::int64_t>(data.dims.size());
  if (rank == 0) throw InputError(where + ": data: expected rank >= 1");
  const std::int64_t axis = axis_in(axis_attr, rank, where);
  const Blocks b = blocks(data.dims, axis);
  std::vector<std::int64_t> dims(data.dims.begin(), data.dims.begin() + axis);
  dims.insert(dims.end(), indices.dims.begin(), indices.dims.end());
  dims.insert(dims.end(), data.dims.begin() + axis + 1, data.dims.end());
  const std::vector<std::int64_t> idx = integers_of(indices, where + ": indices");
  if (b.outer * static_cast<std::int64_t>(idx.size()) * b.inner > std::max(data.elements(), kMaxGrowthElements)) {
    throw InputError(where + ": output of over 2^24 elements is not supported");
  }
  OnnxTensor out = empty_like(data, std::move(dims));
  for (std::int64_t o = 0; o < b.outer; ++o) {
    for (std::int64_t k : idx) {
      if (k < -b.length || k >= b.length) {
        throw InputError(where + ": index " + std::to_string(k) + " is outside [-" + std::to_string(b.length) + ", " +
                         std::to_string(b.length - 1) + "]");
      }
      if (k < 0) k += b.length;
      for (std::int64_t i = 0; i < b.inner; ++i)
        push(out, data, static_cast<std::size_t>((o * b.length + k) * b.inner + i));
    }
  }
  return out;
}

OnnxTensor concat(const std::vector<const OnnxTensor*>& in, std::int64_t axis_attr, const std::string& where) {
  if (in.empty() || !in[0]) throw InputError(where + ": expected at least one input");
  const OnnxTensor& first = *in[0];
  const auto rank = static_cast<std::int64_t>(first.dims.size());
  const std::int64_t axis = axis_in(axis_attr, rank, where);
  std::vector<std::int64_t> dims = first.dims;
  dims[static_cast<std::size_t>(axis)] = 0;
  for (const OnnxTensor* t : in) {
    if (!t) throw InputError(where + ": an input is omitted");
    bool same = t->dims.size() == first.dims.size() && t->data_type == first.data_type;
    for (std::int64_t d = 0; same && d < rank; ++d) {
      same = d == axis || t->dims[static_cast<std::size_t>(d)] == first.dims[static_cast<std::size_t>(d)];
    }
    if (!same) {
      throw InputError(where + ": mismatched shapes or types: " + dims_string(t->dims) + " and " +
                       dims_string(first.dims));
    }
    dims[static_cast<std::size_t>(axis)] += t->dims[static_cast<std::size_t>(axis)];
  }
  OnnxTensor out = empty_like(first, dims);
  const Blocks b = blocks(first.dims, axis);
  for (std::int64_t o = 0; o < b.outer; ++o) {
    for (const OnnxTensor* t : in) {
      const std::int64_t block = t->dims[static_cast<std::size_t>(axis)] * b.inner;
      for (std::int64_t j = 0; j < block; ++j) push(out, *t, static_cast<std::size_t>(o * block + j));
    }
  }
  return out;
}

OnnxTensor unsqueeze(const OnnxTensor& x, const std::vector<std::int64_t>& axes, const std::string& where) {
  const auto rank = static_cast<std::int64_t>(x.dims.size() + axes.size());
  std::set<std::int64_t> at;
  for (const auto a : axes) {
    if (!at.insert(axis_in(a, rank, where)).second)
      throw InputError(where + ": axes: repeated axis " + std::to_string(a));
  }
  OnnxTensor out = x;
  out.dims.clear();
  for (std::int64_t d = 0, src = 0; d < rank; ++d) {
    out.dims.push_back(at.count(d) ? 1 : x.dims[static_cast<std::size_t>(src++)]);
  }
  return out;
}

OnnxTensor squeeze(const OnnxTensor& x, const std::optional<std::vector<std::int64_t>>& axes,
                   const std::string& where) {
  const auto rank = static_cast<std::int64_t>(x.dims.size());
  std::set<std::int64_t> at;
  if (axes) {
    for (const auto a : *axes) {
      const std::int64_t d = axis_in(a, rank, where);
      if (x.dims[static_cast<std::size_t>(d)] != 1) {
        throw InputError(where + ": axis " + std::to_string(a) + " has size " +
                         std::to_string(x.dims[static_cast<std::size_t>(d)]) + ", not 1");
      }
      at.insert(d);
    }
  }
  OnnxTensor out = x;
  out.dims.clear();
  for (std::int64_t d = 0; d < rank; ++d) {
    const std::int64_t n = x.dims[static_cast<std::size_t>(d)];
    if (axes ? !at.count(d) : n != 1) out.dims.push_back(n);
  }
  return out;
}

// ONNX Slice's clamping of one start/end pair for a dimension of size n.
std::pair<std::int64_t, std::int64_t> slice_bounds(std::int64_t start, std::int64_t end, std::int64_t step,
                                                   std::int64_t n) {
  const auto wrap = [n](std::int64_t v) { return v < 0 ? (v < -n ? -1 - n : v) + n : v; };
  start = wrap(start);
  end = wrap(end);
  if (step > 0) return {std::clamp<std::int64_t>(start, 0, n), std::clamp<std::int64_t>(end, 0, n)};
  return {std::clamp<std::int64_t>(start, 0, n - 1), std::clamp<std::int64_t>(end, -1, n - 1)};
}

OnnxTensor slice(const OnnxTensor& x, const std::vector<std::int64_t>& starts, const std::vector<std::int64_t>& ends,
                 std::vector<std::int64_t> axes, std::vector<std::int64_t> steps, const std::string& where) {
  const auto rank = static_cast<std::int64_t>(x.dims.size());
  if (ends.size() != starts.size()) throw InputError(where + ": starts and ends differ in length");
  if (axes.empty()) {
    for (std::size_t k = 0; k < starts.size(); ++k) axes.push_back(static_cast<std::int64_t>(k));
  }
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (axes.size() != starts.size() || steps.size() != starts.size()) {
    throw InputError(where + ": axes and steps must match starts in length");
  }
  std::vector<std::int64_t> begin(static_cast<std::size_t>(rank), 0), step(static_cast<std::size_t>(rank), 1);
  std::vector<std::int64_t> dims = x.dims;
  for (std::size_t k = 0; k < starts.size(); ++k) {
    const auto d = static_cast<std::size_t>(axis_in(axes[k], rank, where));
    if (steps[k] == 0) throw InputError(where + ": steps: a step of 0");
    const auto [s, e] = slice_bounds(starts[k], ends[k], steps[k], x.dims[d]);
    begin[d] = s;
    step[d] = steps[k];
    const std::int64_t span = steps[k] > 0 ? e - s : s - e;
    const std::int64_t magnitude = steps[k] > 0 ? steps[k] : -steps[k];
    dims[d] = span <= 0 ? 0 : (span + magnitude - 1) / magnitude;
  }
  OnnxTensor out = empty_like(x, dims);
  std::vector<std::int64_t> stride(static_cast<std::size_t>(rank), 1);
  for (std::int64_t d = rank - 2; d >= 0; --d) {
    stride[static_cast<std::size_t>(d)] =
        stride[static_cast<std::size_t>(d + 1)] * x.dims[static_cast<std::size_t>(d + 1)];
  }
  const std::int64_t total = count_of(dims);
  for (std::int64_t flat = 0; flat < total; ++flat) {
    std::int64_t rest = flat, src = 0;
    for (std::int64_t d = rank - 1; d >= 0; --d) {
      const auto u = static_cast<std::size_t>(d);
      const std::int64_t c = rest % dims[u];
      rest /= dims[u];
      src += (begin[u] + c * step[u]) * stride[u];
    }
    push(out, x, static_cast<std::size_t>(src));
  }
  return out;
}

OnnxTensor reshape(const OnnxTensor& x, const OnnxTensor& shape, bool allow_zero, const std::string& where) {
  std::vector<std::int64_t> dims = integers_of(shape, where + ": shape");
  std::int64_t known = 1;
  int infer = -1;
  for (std::size_t d = 0; d < dims.size(); ++d) {
    if (dims[d] == 0 && !allow_zero) {
      if (d >= x.dims.size())
        throw InputError(where + ": shape: 0 at position " + std::to_string(d) + " beyond the input's rank");
      dims[d] = x.dims[d];
    }
    if (dims[d] == -1) {
      if (infer >= 0) throw InputError(where + ": shape: more than one -1");
      infer = static_cast<int>(d);
    } else if (dims[d] < 0) {
      throw InputError(where + ": shape: negative dimension " + std::to_string(dims[d]));
    } else {
      known *= dims[d];
    }
  }
  if (infer >= 0) dims[static_cast<std::size_t>(infer)] = known == 0 ? 0 : x.elements() / known;
  if (count_of(dims) != x.elements()) {
    throw InputError(where + ": mismatched shapes: cannot reshape " + dims_string(x.dims) + " to " +
                     dims_string(shape.i));
  }
  OnnxTensor out = x;
  out.dims = std::move(dims);
  return out;
}

// Add, Sub, Mul, Div of two integer tensors with numpy broadcasting (the
// shape arithmetic of dynamic reshapes). Div truncates toward zero, as
// onnxruntime's integer Div.
std::optional<OnnxTensor> integer_arithmetic(const std::string& op, const OnnxTensor& a, const OnnxTensor& c,
                                             const std::string& where) {
  if (!integer_type(a.data_type) || a.data_type != c.data_type) return std::nullopt;
  const std::size_t rank = std::max(a.dims.size(), c.dims.size());
  const auto padded = [rank](const std::vector<std::int64_t>& d) {
    std::vector<std::int64_t> p(rank - d.size(), 1);
    p.insert(p.end(), d.begin(), d.end());
    return p;
  };
  const auto da = padded(a.dims), dc = padded(c.dims);
  std::vector<std::int64_t> dims(rank);
  for (std::size_t d = 0; d < rank; ++d) {
    if (da[d] != dc[d] && da[d] != 1 && dc[d] != 1) {
      throw InputError(where + ": mismatched shapes: " + dims_string(a.dims) + " and " + dims_string(c.dims));
    }
    dims[d] = da[d] == 1 ? dc[d] : da[d];
  }
  if (count_of(dims) > std::max({a.elements(), c.elements(), kMaxGrowthElements})) {
    throw InputError(where + ": output of over 2^24 elements is not supported");
  }
  OnnxTensor out = empty_like(a, dims);
  const std::int64_t total = count_of(dims);
  for (std::int64_t flat = 0; flat < total; ++flat) {
    std::int64_t rest = flat, ia = 0, ic = 0, sa = 1, sc = 1;
    for (std::size_t d = rank; d-- > 0;) {
      const std::int64_t k = rest % dims[d];
      rest /= dims[d];
      ia += (da[d] == 1 ? 0 : k) * sa;
      ic += (dc[d] == 1 ? 0 : k) * sc;
      sa *= da[d];
      sc *= dc[d];
    }
    const std::int64_t x = a.i[static_cast<std::size_t>(ia)], y = c.i[static_cast<std::size_t>(ic)];
    if (op == "Div" && y == 0) throw InputError(where + ": integer division by zero");
    out.i.push_back(op == "Add" ? x + y : op == "Sub" ? x - y : op == "Mul" ? x * y : x / y);
  }
  return out;
}

const OnnxTensor& required(const std::vector<const OnnxTensor*>& in, std::size_t k, const std::string& where) {
  if (k >= in.size() || !in[k]) throw InputError(where + ": input " + std::to_string(k) + " is required");
  return *in[k];
}

}  // namespace

bool is_shape_fold_op(const std::string& op_type) {
  static const std::set<std::string> ops = {"Identity", "Shape",   "Gather", "Concat", "Unsqueeze", "Squeeze",
                                            "Slice",    "Reshape", "Add",    "Sub",    "Mul",       "Div"};
  return ops.count(op_type) > 0;
}

OnnxTensor shape_tensor(const onnx::NodeProto& node, const std::vector<std::int64_t>& shape, const std::string& file) {
  const OnnxAttributes attrs(node, file);
  const auto rank = static_cast<std::int64_t>(shape.size());
  const auto clamp = [rank](std::int64_t v) { return std::clamp<std::int64_t>(v < 0 ? v + rank : v, 0, rank); };
  const std::int64_t start = clamp(attrs.integer("start", 0));
  const std::int64_t end = clamp(attrs.integer("end", rank));
  OnnxTensor out;
  out.data_type = static_cast<int>(OnnxElementType::int64);
  for (std::int64_t d = start; d < end; ++d) out.i.push_back(shape[static_cast<std::size_t>(d)]);
  out.dims = {static_cast<std::int64_t>(out.i.size())};
  return out;
}

std::optional<OnnxTensor> fold_shape_op(const onnx::NodeProto& node, const std::vector<const OnnxTensor*>& in,
                                        const std::string& file, std::int64_t opset) {
  const std::string& op = node.op_type();
  const std::string where = file + ": " + describe_node(node);
  const OnnxAttributes attrs(node, file);
  if (op == "Identity") return required(in, 0, where);
  if (op == "Shape") return shape_tensor(node, required(in, 0, where).dims, file);
  if (op == "Gather") return gather(required(in, 0, where), required(in, 1, where), attrs.integer("axis", 0), where);
  if (op == "Concat") {
    if (!attrs.has("axis")) throw InputError(where + ": attribute axis: missing");
    return concat(in, attrs.integer("axis", 0), where);
  }
  if (op == "Unsqueeze") {
    const auto axes = axes_of(in, attrs, opset, where);
    if (!axes) throw InputError(where + ": axes: missing");
    return unsqueeze(required(in, 0, where), *axes, where);
  }
  if (op == "Squeeze") return squeeze(required(in, 0, where), axes_of(in, attrs, opset, where), where);
  if (op == "Slice") {
    const OnnxTensor& x = required(in, 0, where);
    if (opset < 10) {
      return slice(x, attrs.integers("starts", {}), attrs.integers("ends", {}), attrs.integers("axes", {}), {}, where);
    }
    const auto optional_ints = [&](std::size_t k) {
      return k < in.size() && in[k] ? integers_of(*in[k], where) : std::vector<std::int64_t>{};
    };
    return slice(x, integers_of(required(in, 1, where), where), integers_of(required(in, 2, where), where),
                 optional_ints(3), optional_ints(4), where);
  }
  if (op == "Reshape") {
    return reshape(required(in, 0, where), required(in, 1, where), attrs.integer("allowzero", 0) != 0, where);
  }
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") {
    return integer_arithmetic(op, required(in, 0, where), required(in, 1, where), where);
  }
  return std::nullopt;
}

}  // namespace npusim
