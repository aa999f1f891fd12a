#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <set>
#include <utility>

#include "models/input_error.h"
#include "models/onnx/onnx_builder.h"
#include "models/onnx/onnx_float_common.h"
#include "models/onnx/onnx_proto.h"

// The helpers every FP32 op mapper uses (onnx_float_common.h).

namespace npusim::onnx_float {
namespace {

std::pair<std::int64_t, std::int64_t> pair_of(const std::vector<std::int64_t>& v, bool one_d) {
  return {v[0], one_d ? 1 : v[1]};
}

}  // namespace

std::string shape_text(const OnnxDims& shape) { return dims_text(shape); }

std::int64_t normalize_axis(std::int64_t axis, std::size_t rank, const std::string& where) {
  const auto r = static_cast<std::int64_t>(rank);
  if (axis < -r || axis >= std::max<std::int64_t>(r, 1)) {
    throw InputError(where + "axis " + std::to_string(axis) + " is outside the rank " + std::to_string(r));
  }
  return axis < 0 ? axis + r : axis;
}

const OnnxValue& real_input(OnnxBuilder& b, const onnx::NodeProto& node, int index, bool allow_pad) {
  const OnnxValue& v = b.runtime_input(node, index, allow_pad);
  if (v.view == OnnxView::accumulator) {
    throw OnnxUnsupported(
        "reads the int32 accumulators of a ConvInteger/MatMulInteger (only supported as the graph output)");
  }
  if (v.view != OnnxView::real || v.data_type != kFloat) {
    throw OnnxUnsupported("input " + std::to_string(index) + " has element type " + onnx_type_name(v.data_type) +
                          "; expected FLOAT (integer tensors need QuantizeLinear/DequantizeLinear)");
  }
  return v;
}

// Ops that move or select values without arithmetic also take integer tensors.
const OnnxValue& any_input(OnnxBuilder& b, const onnx::NodeProto& node, int index) {
  const OnnxValue& v = b.runtime_input(node, index);
  if (v.view == OnnxView::accumulator) {
    throw OnnxUnsupported(
        "reads the int32 accumulators of a ConvInteger/MatMulInteger (only supported as the graph output)");
  }
  return v;
}

OnnxValue alias(const OnnxValue& in, OnnxDims shape) {
  OnnxValue v = in;
  v.shape = std::move(shape);
  v.direct_layer = -1;
  return v;
}

Spatial spatial_of(const OnnxValue& x) {
  const OnnxDims& s = x.shape;
  if (s.size() == 5) throw OnnxUnsupported("3-D (rank-5) tensors are not supported; the IR is 2-D {C, H, W}");
  if (s.size() != 4 && s.size() != 3) {
    throw OnnxUnsupported("expected an input of rank 4 [N, C, H, W] or 3 [N, C, L], got " + shape_text(s));
  }
  if (s[0] != 1) throw OnnxUnsupported("batch " + std::to_string(s[0]) + " > 1; npusim runs batch 1");
  if (s.size() == 3) return {s[1], s[2], 1, true};
  return {s[1], s[2], s[3], false};
}

OnnxDims spatial_shape(const Spatial& in, std::int64_t channels, std::int64_t h, std::int64_t w) {
  if (in.one_d) return {1, channels, h};
  return {1, channels, h, w};
}

namespace {

// An attribute of `count` integers, each in [lo, kMaxWindow] (absent:
// `fallback`); InputError naming the attribute otherwise.
std::vector<std::int64_t> window_attribute(const OnnxAttributes& attrs, const char* name,
                                           std::vector<std::int64_t> fallback, std::int64_t lo) {
  const std::size_t count = fallback.size();
  const auto values = attrs.integers(name, std::move(fallback));
  if (values.size() != count) {
    throw InputError(attrs.where(name) + ": expected " + std::to_string(count) + " values");
  }
  for (const auto x : values) {
    if (x < lo || x > kMaxWindow) {
      throw InputError(attrs.where(name) + ": expected values in [" + std::to_string(lo) + ", 1024], got " +
                       std::to_string(x));
    }
  }
  return values;
}

}  // namespace

// Reads kernel (given), strides, dilations, pads / auto_pad and computes the
// output size; `ceil_mode` rounds the output size up (pools), realized as extra
// bottom/right padding that no window reaches with zero input elements.
Window read_window(const OnnxBuilder& b, const onnx::NodeProto& node, const Spatial& in,
                   std::vector<std::int64_t> kernel, bool allow_ceil) {
  const OnnxAttributes attrs(node, b.file());
  const std::size_t rank = in.one_d ? 1 : 2;
  if (kernel.size() != rank) {
    throw InputError(attrs.where("kernel_shape") + ": expected " + std::to_string(rank) + " values for a " +
                     std::to_string(rank) + "-D input, got " + std::to_string(kernel.size()));
  }
  for (const auto x : kernel) {
    if (x < 1 || x > kMaxWindow) {
      throw InputError(attrs.where("kernel_shape") + ": expected values in [1, 1024], got " + std::to_string(x));
    }
  }
  const auto strides = window_attribute(attrs, "strides", std::vector<std::int64_t>(rank, 1), 1);
  const auto dilations = window_attribute(attrs, "dilations", std::vector<std::int64_t>(rank, 1), 1);
  const auto pads = window_attribute(attrs, "pads", std::vector<std::int64_t>(2 * rank, 0), 0);
  Window w;
  std::tie(w.kernel_h, w.kernel_w) = pair_of(kernel, in.one_d);
  std::tie(w.stride_h, w.stride_w) = pair_of(strides, in.one_d);
  std::tie(w.dilation_h, w.dilation_w) = pair_of(dilations, in.one_d);
  w.pad_top = pads[0];
  w.pad_bottom = pads[rank];
  w.pad_left = in.one_d ? 0 : pads[1];
  w.pad_right = in.one_d ? 0 : pads[3];
  const std::string auto_pad = attrs.text("auto_pad", "NOTSET");
  const std::int64_t extent_h = (w.kernel_h - 1) * w.dilation_h + 1;
  const std::int64_t extent_w = (w.kernel_w - 1) * w.dilation_w + 1;
  if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    auto same = [&](std::int64_t size, std::int64_t stride, std::int64_t extent, std::int64_t& begin,
                    std::int64_t& end) {
      const std::int64_t out = (size + stride - 1) / stride;
      const std::int64_t total = std::max<std::int64_t>(0, (out - 1) * stride + extent - size);
      begin = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      end = total - begin;
    };
    same(in.height, w.stride_h, extent_h, w.pad_top, w.pad_bottom);
    same(in.width, w.stride_w, extent_w, w.pad_left, w.pad_right);
  } else if (auto_pad == "VALID") {
    w.pad_top = w.pad_bottom = w.pad_left = w.pad_right = 0;
  } else if (auto_pad != "NOTSET") {
    throw InputError(attrs.where("auto_pad") + ": expected NOTSET, SAME_UPPER, SAME_LOWER or VALID, got \"" + auto_pad +
                     "\"");
  }
  const bool ceil = allow_ceil && attrs.integer("ceil_mode", 0) != 0;
  auto out_size = [&](std::int64_t size, std::int64_t pb, std::int64_t& pe, std::int64_t extent, std::int64_t stride,
                      const char* axis) {
    const std::int64_t padded = size + pb + pe;
    if (extent > padded) {
      throw InputError(b.where(node) + "the " + std::string(axis) + " window (" + std::to_string(extent) +
                       ") is larger than the padded input (" + std::to_string(padded) + ")");
    }
    std::int64_t out = (padded - extent) / stride + 1;
    if (ceil && (padded - extent) % stride != 0) {
      ++out;
      const std::int64_t extra = (out - 1) * stride + extent - padded;
      // The last window must start inside the input or its begin padding.
      if ((out - 1) * stride >= size + pb) {
        throw OnnxUnsupported("ceil_mode gives a window with no input element");
      }
      pe += extra;
    }
    return out;
  };
  w.out_h = out_size(in.height, w.pad_top, w.pad_bottom, extent_h, w.stride_h, "vertical");
  w.out_w = out_size(in.width, w.pad_left, w.pad_right, extent_w, w.stride_w, "horizontal");
  return w;
}

}  // namespace npusim::onnx_float
