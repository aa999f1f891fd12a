#include "sim/mapper/lowering.h"

#include <stdexcept>
#include <string>

namespace npusim {
namespace {

void require(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument("lowering: " + what);
}

// im2col of one group, in the layout lowering.h states.
template <typename T>
void im2col_group(const ConvGeometry& geo, const Conv2dParams& conv, const std::vector<T>& in, T pad_value,
                  std::int64_t group, std::vector<T>& a) {
  const std::int64_t kr = conv.kernel_h, ks = conv.kernel_w;
  const std::int64_t k_len = geo.gemm.k;
  a.assign(static_cast<std::size_t>(geo.gemm.m * k_len), pad_value);
  const std::int64_t plane = geo.in_h * geo.in_w;
  for (std::int64_t oy = 0; oy < geo.out_h; ++oy) {
    for (std::int64_t ox = 0; ox < geo.out_w; ++ox) {
      T* row = a.data() + (oy * geo.out_w + ox) * k_len;
      for (std::int64_t c = 0; c < geo.channels_per_group; ++c) {
        const T* channel = in.data() + (group * geo.channels_per_group + c) * plane;
        for (std::int64_t r = 0; r < kr; ++r) {
          const std::int64_t iy = oy * conv.stride_h - conv.pad_top + r * conv.dilation_h;
          if (iy < 0 || iy >= geo.in_h) continue;  // the whole kernel row is padding
          for (std::int64_t s = 0; s < ks; ++s) {
            const std::int64_t ix = ox * conv.stride_w - conv.pad_left + s * conv.dilation_w;
            if (ix < 0 || ix >= geo.in_w) continue;
            row[(c * kr + r) * ks + s] = channel[iy * geo.in_w + ix];
          }
        }
      }
    }
  }
}

// W[k][n] = weights[first_filter + n][k] for a weight tensor whose filters are
// rows of length k.
template <typename T>
void weight_matrix(const std::vector<T>& weights, std::int64_t first_filter, const GemmShape& shape,
                   std::vector<T>& w) {
  w.resize(static_cast<std::size_t>(shape.k * shape.n));
  for (std::int64_t n = 0; n < shape.n; ++n) {
    const T* filter = weights.data() + (first_filter + n) * shape.k;
    for (std::int64_t k = 0; k < shape.k; ++k) w[k * shape.n + n] = filter[k];
  }
}

void check_storage(const Tensor& t, const char* what) {
  const auto expected = static_cast<std::size_t>(t.elements());
  if (is_integer_class(t.format)) {
    require(t.q.size() == expected, std::string(what) + " holds " + std::to_string(t.q.size()) +
                                        " integer values for " + std::to_string(expected) + " elements");
  } else {
    require(t.f.size() == expected, std::string(what) + " holds " + std::to_string(t.f.size()) + " float values for " +
                                        std::to_string(expected) + " elements");
  }
}

void check_operand_classes(const Tensor& input, const Tensor& weights) {
  require(is_integer_class(input.format) == is_integer_class(weights.format),
          "input format " + std::string(to_string(input.format)) + " and weight format " +
              std::string(to_string(weights.format)) + " mix integer and floating point");
  check_storage(input, "input");
  check_storage(weights, "weights");
}

}  // namespace

GemmOperands LoweredGemm::operands() const {
  GemmOperands ops;
  ops.shape = shape;
  ops.a_int = a_int;
  ops.w_int = w_int;
  ops.a_float = a_float;
  ops.w_float = w_float;
  return ops;
}

ConvGeometry conv_geometry(const Conv2dParams& conv, const std::vector<std::int64_t>& input_dims) {
  require(input_dims.size() == 3, "conv2d input must have dims {C, H, W}");
  require(conv.groups >= 1 && conv.kernel_h >= 1 && conv.kernel_w >= 1 && conv.stride_h >= 1 && conv.stride_w >= 1 &&
              conv.dilation_h >= 1 && conv.dilation_w >= 1,
          "conv2d parameters must be positive");
  ConvGeometry geo;
  geo.in_channels = input_dims[0];
  geo.in_h = input_dims[1];
  geo.in_w = input_dims[2];
  geo.groups = conv.groups;
  require(geo.in_channels % geo.groups == 0 && conv.out_channels % geo.groups == 0,
          "conv2d channels must divide by groups");
  geo.channels_per_group = geo.in_channels / geo.groups;
  geo.filters_per_group = conv.out_channels / geo.groups;
  const std::int64_t span_h = std::int64_t{conv.dilation_h} * (conv.kernel_h - 1) + 1;
  const std::int64_t span_w = std::int64_t{conv.dilation_w} * (conv.kernel_w - 1) + 1;
  const std::int64_t padded_h = geo.in_h + conv.pad_top + conv.pad_bottom;
  const std::int64_t padded_w = geo.in_w + conv.pad_left + conv.pad_right;
  require(padded_h >= span_h && padded_w >= span_w, "conv2d kernel larger than padded input");
  geo.out_h = (padded_h - span_h) / conv.stride_h + 1;
  geo.out_w = (padded_w - span_w) / conv.stride_w + 1;
  geo.gemm.m = geo.out_h * geo.out_w;
  geo.gemm.n = geo.filters_per_group;
  geo.gemm.k = geo.channels_per_group * conv.kernel_h * conv.kernel_w;
  return geo;
}

LoweredGemm lower_conv2d_group(const Conv2dParams& conv, const Tensor& input, const Tensor& weights,
                               std::int64_t group) {
  const ConvGeometry geo = conv_geometry(conv, input.dims);
  require(group >= 0 && group < geo.groups, "conv2d group out of range");
  require(weights.dims ==
              std::vector<std::int64_t>{conv.out_channels, geo.channels_per_group, conv.kernel_h, conv.kernel_w},
          "conv2d weights must have dims {N, C/groups, R, S}");
  check_operand_classes(input, weights);

  LoweredGemm lowered;
  lowered.shape = geo.gemm;
  const std::int64_t first_filter = group * geo.filters_per_group;
  if (is_integer_class(input.format)) {
    const auto pad = static_cast<std::int8_t>(input.quant.zero_point);
    im2col_group(geo, conv, input.q, pad, group, lowered.a_int);
    weight_matrix(weights.q, first_filter, geo.gemm, lowered.w_int);
  } else {
    im2col_group(geo, conv, input.f, 0.0f, group, lowered.a_float);
    weight_matrix(weights.f, first_filter, geo.gemm, lowered.w_float);
  }
  return lowered;
}

LoweredGemm lower_fc(const Tensor& input, const Tensor& weights) {
  require(weights.dims.size() == 2, "fc weights must have dims {N, K}");
  require(weights.dims[1] == input.elements(), "fc weights expect K = " + std::to_string(weights.dims[1]) +
                                                   " inputs, the input has " + std::to_string(input.elements()));
  check_operand_classes(input, weights);

  LoweredGemm lowered;
  lowered.shape = GemmShape{1, weights.dims[0], weights.dims[1]};
  if (is_integer_class(input.format)) {
    lowered.a_int = input.q;
    weight_matrix(weights.q, 0, lowered.shape, lowered.w_int);
  } else {
    lowered.a_float = input.f;
    weight_matrix(weights.f, 0, lowered.shape, lowered.w_float);
  }
  return lowered;
}

void scatter_gemm_output(const GemmOutput& output, const GemmShape& shape, std::int64_t first_channel,
                         std::span<std::int32_t> acc_int, std::span<float> acc_float) {
  const auto count = static_cast<std::size_t>(shape.m * shape.n);
  const auto needed = static_cast<std::size_t>((first_channel + shape.n) * shape.m);
  auto scatter = [&](const auto& from, auto to) {
    require(to.size() >= needed, "accumulators too small for the GEMM output");
    for (std::int64_t m = 0; m < shape.m; ++m) {
      for (std::int64_t n = 0; n < shape.n; ++n) {
        to[(first_channel + n) * shape.m + m] = from[m * shape.n + n];
      }
    }
  };
  if (output.acc_int.size() == count && output.acc_float.empty()) {
    scatter(output.acc_int, acc_int);
  } else if (output.acc_float.size() == count && output.acc_int.empty()) {
    scatter(output.acc_float, acc_float);
  } else {
    throw std::invalid_argument("lowering: GEMM output holds neither M*N integer nor float values");
  }
}

}  // namespace npusim
