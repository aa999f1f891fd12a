#include "models/network_json.h"

#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <string_view>
#include <tuple>
#include <utility>

#include "models/input_error.h"
#include "models/json_reader.h"
#include "models/seeded_random.h"
#include "models/tensor.h"

// The format is specified in docs/network_format.md; keep the two in step.

namespace npusim {
namespace {

constexpr std::int64_t kFormatVersion = 1;
constexpr std::int64_t kMaxDim = 65536;         // channels, height, width, filters, units
constexpr std::int64_t kMaxWindow = 1024;       // kernel, stride, dilation, padding
constexpr std::int64_t kMaxElements = 1 << 30;  // per activation tensor
constexpr std::int64_t kMaxWeights = 1 << 28;   // per layer
constexpr const char* kLayerTypes =
    "one of conv2d, fc, maxpool, avgpool, add, relu, relu6, concat, softmax, flatten, reshape, clip, constant";
constexpr const char* kAxisExpected = "an integer in [0, 2] (an index into [C, H, W])";
constexpr double kFloatMax = 3.402823466e38;
constexpr const char* kPaddingExpected =
    "a list of 2 ([vertical, horizontal]) or 4 ([top, left, bottom, right]) integers in [0, 1024]";

using Dims = std::vector<std::int64_t>;

std::optional<LayerType> parse_layer_type(std::string_view name) {
  if (name == "conv2d") return LayerType::conv2d;
  if (name == "fc") return LayerType::fc;
  if (name == "maxpool") return LayerType::maxpool;
  if (name == "avgpool") return LayerType::avgpool;
  if (name == "add") return LayerType::add;
  if (name == "relu") return LayerType::relu;
  if (name == "relu6") return LayerType::relu6;
  if (name == "concat") return LayerType::concat;
  if (name == "softmax") return LayerType::softmax;
  if (name == "flatten") return LayerType::flatten;
  if (name == "reshape") return LayerType::reshape;
  if (name == "clip") return LayerType::clip;
  if (name == "constant") return LayerType::constant;
  return std::nullopt;
}

std::string dims_text(const Dims& dims) {
  std::string text = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) text += (i ? ", " : "") + std::to_string(dims[i]);
  return text + "]";
}

// A sliding window's geometry along both axes, as the JSON gives it.
struct Window {
  int kernel_h = 1, kernel_w = 1;
  int stride_h = 1, stride_w = 1;
  int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int dilation_h = 1, dilation_w = 1;
};

std::pair<int, int> read_pair(JsonObjectReader& r, const std::string& key, std::int64_t min,
                              std::optional<std::pair<int, int>> fallback) {
  if (fallback && !r.has(key)) return *fallback;
  const auto v = r.integer_list(key, min, kMaxWindow, 2, 2);
  return {static_cast<int>(v[0]), static_cast<int>(v[1])};
}

void read_padding(JsonObjectReader& r, Window& w) {
  if (!r.has("padding")) return;
  const auto& raw = r.array("padding");
  if (raw.size() != 2 && raw.size() != 4) r.fail("padding", kPaddingExpected);
  for (const auto& element : raw) {
    if (!element.is_number_integer() || element.get<std::int64_t>() < 0 || element.get<std::int64_t>() > kMaxWindow) {
      r.fail("padding", kPaddingExpected);
    }
  }
  const auto p = r.integer_list("padding", 0, kMaxWindow, 2, 4);
  w.pad_top = static_cast<int>(p[0]);
  w.pad_left = static_cast<int>(p[1]);
  w.pad_bottom = static_cast<int>(p.size() == 4 ? p[2] : p[0]);
  w.pad_right = static_cast<int>(p.size() == 4 ? p[3] : p[1]);
}

// Output {H, W} of a window over a {H, W} input; fails on "kernel" when the
// dilated kernel does not fit the padded input.
std::pair<std::int64_t, std::int64_t> window_output(JsonObjectReader& r, const Window& w, const Dims& input) {
  const std::int64_t extent_h = std::int64_t{w.dilation_h} * (w.kernel_h - 1) + 1;
  const std::int64_t extent_w = std::int64_t{w.dilation_w} * (w.kernel_w - 1) + 1;
  const std::int64_t padded_h = input[1] + w.pad_top + w.pad_bottom;
  const std::int64_t padded_w = input[2] + w.pad_left + w.pad_right;
  if (extent_h > padded_h || extent_w > padded_w) {
    r.fail("kernel", "a kernel whose dilated extent (" + std::to_string(extent_h) + " x " + std::to_string(extent_w) +
                         ") fits the padded input (" + std::to_string(padded_h) + " x " + std::to_string(padded_w) +
                         ")");
  }
  return {(padded_h - extent_h) / w.stride_h + 1, (padded_w - extent_w) / w.stride_w + 1};
}

Activation read_activation(JsonObjectReader& r) {
  const std::string name = r.string_or("activation", "none");
  if (name == "none") return Activation::none;
  if (name == "relu") return Activation::relu;
  if (name == "relu6") return Activation::relu6;
  r.fail("activation", "one of none, relu, relu6");
}

class NetworkReader {
 public:
  NetworkReader(const nlohmann::json& document, std::string file) : document_(document), file_(std::move(file)) {}

  Graph read() {
    JsonObjectReader root(document_, file_, "$");
    if (!root.has("format_version")) root.fail("format_version", "the integer 1");
    if (root.integer("format_version", 0, 1 << 30) != kFormatVersion) {
      root.fail("format_version", "1 (the only network format this npusim reads)");
    }
    graph_.name = root.string("name");
    if (graph_.name.empty()) root.fail("name", "a non-empty string");
    graph_.seed = static_cast<std::uint64_t>(root.integer_or("seed", 0, std::numeric_limits<std::int64_t>::max(), 1));
    read_input(root);
    const auto& layers = root.array("layers");
    if (layers.empty()) root.fail("layers", "a non-empty list of layers");
    index_names(layers);
    for (std::size_t i = 0; i < layers.size(); ++i) {
      JsonObjectReader r(layers[i], file_, root.path_of("layers") + "[" + std::to_string(i) + "]");
      graph_.layers.push_back(read_layer(r, i));
      dims_[graph_.layers.back().name] = graph_.layers.back().output_dims;
    }
    root.finish();
    return std::move(graph_);
  }

 private:
  void read_input(JsonObjectReader& root) {
    auto input = root.child("input");
    graph_.input_name = input.string_or("name", "input");
    if (graph_.input_name.empty()) input.fail("name", "a non-empty string");
    graph_.input_dims = input.integer_list("shape", 1, kMaxDim, 3, 3);
    if (elements(graph_.input_dims) > kMaxElements) {
      input.fail("shape", "[channels, height, width] with at most 2^30 elements");
    }
    input.finish();
    dims_[graph_.input_name] = graph_.input_dims;
  }

  // The first layer index of every name, so that a reference to a layer
  // defined later can say so.
  void index_names(const nlohmann::json& layers) {
    for (std::size_t i = 0; i < layers.size(); ++i) {
      const auto& layer = layers[i];
      if (layer.is_object() && layer.contains("name") && layer["name"].is_string()) {
        first_index_.emplace(layer["name"].get<std::string>(), i);
      }
    }
  }

  std::string layer_path(std::size_t index) const { return "$.layers[" + std::to_string(index) + "]"; }

  void read_name(JsonObjectReader& r, std::size_t index, Layer& layer) {
    layer.name = r.string("name");
    if (layer.name.empty()) r.fail("name", "a non-empty string");
    if (layer.name == graph_.input_name) {
      r.fail("name", "a name other than the graph input's (\"" + graph_.input_name + "\")");
    }
    const std::size_t first = first_index_.at(layer.name);
    if (first != index) {
      r.fail("name", "a name no earlier layer uses (" + layer_path(first) + " is \"" + layer.name + "\")");
    }
  }

  // Dims of the tensor `name` names, read from `path` by layer `index`.
  const Dims& resolve(const std::string& name, const std::string& path, std::size_t index) const {
    const auto it = dims_.find(name);
    if (it != dims_.end()) return it->second;
    std::string note;
    const auto later = first_index_.find(name);
    if (later != first_index_.end()) {
      note = later->second == index ? " (the layer itself)" : " (defined later, at " + layer_path(later->second) + ")";
    }
    throw InputError(file_ + ": " + path + ": expected the graph input (\"" + graph_.input_name +
                     "\") or an earlier layer, got " + describe_json(name) + note);
  }

  const Dims& read_single_input(JsonObjectReader& r, std::size_t index, Layer& layer) {
    layer.inputs = {r.string("input")};
    return resolve(layer.inputs[0], r.path_of("input"), index);
  }

  Layer read_layer(JsonObjectReader& r, std::size_t index) {
    Layer layer;
    read_name(r, index, layer);
    const auto type = parse_layer_type(r.string("type"));
    if (!type) r.fail("type", kLayerTypes);
    layer.type = *type;
    switch (layer.type) {
      case LayerType::conv2d: read_conv(r, index, layer); break;
      case LayerType::fc: read_fc(r, index, layer); break;
      case LayerType::maxpool:
      case LayerType::avgpool: read_pool(r, index, layer); break;
      case LayerType::add: read_add(r, index, layer); break;
      case LayerType::relu:
      case LayerType::relu6: layer.output_dims = read_single_input(r, index, layer); break;
      case LayerType::concat: read_concat(r, index, layer); break;
      case LayerType::softmax:
        layer.output_dims = read_single_input(r, index, layer);
        layer.axis = read_axis(r);
        break;
      case LayerType::flatten: {
        const Dims& input = read_single_input(r, index, layer);
        layer.output_dims = {elements(input), 1, 1};
        break;
      }
      case LayerType::reshape: read_reshape(r, index, layer); break;
      case LayerType::clip: read_clip(r, index, layer); break;
      case LayerType::constant: read_constant(r, layer); break;
      case LayerType::scale:
      case LayerType::sigmoid:
      case LayerType::hard_sigmoid:
      case LayerType::mul:
      case LayerType::tanh:
      case LayerType::gelu:
      case LayerType::leaky_relu:
      case LayerType::prelu:
      case LayerType::hard_swish:
      case LayerType::log_softmax:
      case LayerType::reduce:
      case LayerType::transpose:
      case LayerType::slice:
      case LayerType::sub:
      case LayerType::div: break;  // not JSON layer types (layer_type() never returns them)
    }
    r.finish();
    if (elements(layer.output_dims) > kMaxElements) {
      throw InputError(file_ + ": " + r.path() + ": expected an output of at most 2^30 elements, got " +
                       dims_text(layer.output_dims));
    }
    return layer;
  }

  void read_conv(JsonObjectReader& r, std::size_t index, Layer& layer) {
    const Dims input = read_single_input(r, index, layer);
    auto& c = layer.conv;
    c.out_channels = r.integer("filters", 1, kMaxDim);
    Window w;
    std::tie(w.kernel_h, w.kernel_w) = read_pair(r, "kernel", 1, std::nullopt);
    std::tie(w.stride_h, w.stride_w) = read_pair(r, "stride", 1, std::pair{1, 1});
    read_padding(r, w);
    std::tie(w.dilation_h, w.dilation_w) = read_pair(r, "dilation", 1, std::pair{1, 1});
    c.groups = static_cast<int>(r.integer_or("groups", 1, kMaxDim, 1));
    if (input[0] % c.groups != 0 || c.out_channels % c.groups != 0) {
      r.fail("groups", "a divisor of the input channels (" + std::to_string(input[0]) + ") and of filters (" +
                           std::to_string(c.out_channels) + ")");
    }
    if (c.out_channels * (input[0] / c.groups) * w.kernel_h * w.kernel_w > kMaxWeights) {
      r.fail("filters", "a layer of at most 2^28 weights");
    }
    layer.has_bias = r.boolean_or("bias", true);
    layer.activation = read_activation(r);
    const auto [oh, ow] = window_output(r, w, input);
    c.kernel_h = w.kernel_h, c.kernel_w = w.kernel_w;
    c.stride_h = w.stride_h, c.stride_w = w.stride_w;
    c.pad_top = w.pad_top, c.pad_left = w.pad_left, c.pad_bottom = w.pad_bottom, c.pad_right = w.pad_right;
    c.dilation_h = w.dilation_h, c.dilation_w = w.dilation_w;
    layer.output_dims = {c.out_channels, oh, ow};
  }

  void read_fc(JsonObjectReader& r, std::size_t index, Layer& layer) {
    const std::int64_t k = elements(read_single_input(r, index, layer));
    layer.fc.out_features = r.integer("units", 1, kMaxDim);
    if (layer.fc.out_features * k > kMaxWeights) {
      r.fail("units", "at most " + std::to_string(kMaxWeights / k) + " units for an input of " + std::to_string(k) +
                          " elements (2^28 weights per layer)");
    }
    layer.has_bias = r.boolean_or("bias", true);
    layer.activation = read_activation(r);
    layer.output_dims = {layer.fc.out_features, 1, 1};
  }

  void read_pool(JsonObjectReader& r, std::size_t index, Layer& layer) {
    const Dims input = read_single_input(r, index, layer);
    auto& p = layer.pool;
    p.global = r.boolean_or("global", false);
    if (p.global) {
      // Window fields are then unknown fields, rejected by finish().
      p.kernel_h = static_cast<int>(input[1]);
      p.kernel_w = static_cast<int>(input[2]);
      layer.output_dims = {input[0], 1, 1};
      return;
    }
    Window w;
    std::tie(w.kernel_h, w.kernel_w) = read_pair(r, "kernel", 1, std::nullopt);
    // Required: frameworks disagree on the default (1, or the kernel).
    std::tie(w.stride_h, w.stride_w) = read_pair(r, "stride", 1, std::nullopt);
    read_padding(r, w);
    if (w.pad_top >= w.kernel_h || w.pad_bottom >= w.kernel_h || w.pad_left >= w.kernel_w ||
        w.pad_right >= w.kernel_w) {
      r.fail("padding", "padding smaller than the kernel (" + std::to_string(w.kernel_h) + " x " +
                            std::to_string(w.kernel_w) + ") on every side");
    }
    const auto [oh, ow] = window_output(r, w, input);
    p.kernel_h = w.kernel_h, p.kernel_w = w.kernel_w;
    p.stride_h = w.stride_h, p.stride_w = w.stride_w;
    p.pad_top = w.pad_top, p.pad_left = w.pad_left, p.pad_bottom = w.pad_bottom, p.pad_right = w.pad_right;
    layer.output_dims = {input[0], oh, ow};
  }

  void read_add(JsonObjectReader& r, std::size_t index, Layer& layer) {
    const auto& names = r.array("inputs");
    if (names.size() != 2 || !names[0].is_string() || !names[1].is_string()) {
      r.fail("inputs", "a list of 2 tensor names");
    }
    layer.inputs = {names[0].get<std::string>(), names[1].get<std::string>()};
    const std::string path = r.path_of("inputs");
    const Dims& a = resolve(layer.inputs[0], path + "[0]", index);
    const Dims& b = resolve(layer.inputs[1], path + "[1]", index);
    if (a != b) {
      r.fail("inputs", "two tensors of the same shape (\"" + layer.inputs[0] + "\" is " + dims_text(a) + ", \"" +
                           layer.inputs[1] + "\" is " + dims_text(b) + ")");
    }
    layer.activation = read_activation(r);
    layer.output_dims = a;
  }

  static int read_axis(JsonObjectReader& r) {
    try {
      return static_cast<int>(r.integer_or("axis", 0, 2, 0));
    } catch (const InputError&) {
      r.fail("axis", kAxisExpected);  // the same message, naming the axes
    }
  }

  void read_concat(JsonObjectReader& r, std::size_t index, Layer& layer) {
    const auto& names = r.array("inputs");
    if (names.empty()) r.fail("inputs", "a non-empty list of tensor names");
    for (const auto& name : names) {
      if (!name.is_string()) r.fail("inputs", "a non-empty list of tensor names");
    }
    layer.axis = read_axis(r);
    const std::string path = r.path_of("inputs");
    const auto axis = static_cast<std::size_t>(layer.axis);
    for (std::size_t j = 0; j < names.size(); ++j) {
      layer.inputs.push_back(names[j].get<std::string>());
      const Dims& dims = resolve(layer.inputs[j], path + "[" + std::to_string(j) + "]", index);
      if (j == 0) {
        layer.output_dims = dims;
        continue;
      }
      for (std::size_t d = 0; d < 3; ++d) {
        if (d != axis && dims[d] != layer.output_dims[d]) {
          throw InputError(file_ + ": " + path + "[" + std::to_string(j) +
                           "]: expected a tensor whose shape matches \"" + layer.inputs[0] + "\" " +
                           dims_text(layer.output_dims) + " on every axis but " + std::to_string(axis) + ", got \"" +
                           layer.inputs[j] + "\" " + dims_text(dims));
        }
      }
      layer.output_dims[axis] += dims[axis];
    }
    if (layer.output_dims[axis] > kMaxDim) {
      r.fail("inputs", "tensors whose concatenated axis " + std::to_string(axis) + " is at most " +
                           std::to_string(kMaxDim) + " long, got " + std::to_string(layer.output_dims[axis]));
    }
  }

  void read_reshape(JsonObjectReader& r, std::size_t index, Layer& layer) {
    const Dims& input = read_single_input(r, index, layer);
    layer.output_dims = r.integer_list("shape", 1, kMaxDim, 3, 3);
    if (elements(layer.output_dims) != elements(input)) {
      r.fail("shape", "[C, H, W] with as many elements as the input " + dims_text(input) + " (" +
                          std::to_string(elements(input)) + "), got " + dims_text(layer.output_dims) + " (" +
                          std::to_string(elements(layer.output_dims)) + ")");
    }
  }

  void read_clip(JsonObjectReader& r, std::size_t index, Layer& layer) {
    layer.output_dims = read_single_input(r, index, layer);
    // Bounds are stored as float (the tensors' type); compare after rounding.
    layer.clip.min = static_cast<float>(r.number_or("min", -kFloatMax, kFloatMax, -kFloatMax));
    layer.clip.max = static_cast<float>(r.number_or("max", -kFloatMax, kFloatMax, kFloatMax));
    if (layer.clip.min > layer.clip.max) {
      r.fail("max", "a bound at least min (" + describe_json(layer.clip.min) + ")");
    }
  }

  // The values, when given, go to Layer::weights; fill_parameters draws them otherwise.
  void read_constant(JsonObjectReader& r, Layer& layer) {
    layer.output_dims = r.integer_list("shape", 1, kMaxDim, 3, 3);
    const std::int64_t count = elements(layer.output_dims);
    if (count > kMaxWeights) {
      r.fail("shape", "[C, H, W] with at most 2^28 elements (a constant is stored like weights), got " +
                          dims_text(layer.output_dims));
    }
    if (!r.has("values")) return;
    const auto& values = r.array("values");
    if (static_cast<std::int64_t>(values.size()) != count) {
      r.fail("values", "a list of " + std::to_string(count) + " numbers (the elements of shape " +
                           dims_text(layer.output_dims) + "), got a list of " + std::to_string(values.size()));
    }
    layer.weights.reserve(values.size());
    for (std::size_t j = 0; j < values.size(); ++j) {
      const auto& v = values[j];
      const double x = v.is_number() ? v.get<double>() : 0.0;
      // Values are stored as fp32: a number that would overflow it is an error.
      if (!v.is_number() || v.is_boolean() || !std::isfinite(x) || std::fabs(x) > kFloatMax) {
        throw InputError(file_ + ": " + r.path_of("values") + "[" + std::to_string(j) +
                         "]: expected a number of magnitude at most 3.4028234663852886e38, got " + describe_json(v));
      }
      layer.weights.push_back(static_cast<float>(x));
    }
  }

  const nlohmann::json& document_;
  std::string file_;
  Graph graph_;
  std::map<std::string, Dims> dims_;  // tensors defined so far
  std::map<std::string, std::size_t> first_index_;
};

// He-uniform weights and small uniform biases, one generator stream per layer
// so that editing one layer leaves the others' parameters unchanged.
void fill_parameters(Graph& graph) {
  std::map<std::string, const Dims*> dims{{graph.input_name, &graph.input_dims}};
  for (std::size_t i = 0; i < graph.layers.size(); ++i) {
    Layer& layer = graph.layers[i];
    dims[layer.name] = &layer.output_dims;
    if (layer.type == LayerType::constant) {
      if (!layer.weights.empty()) continue;  // given in the file
      SeededRandom random(stream_seed(graph.seed, i));
      layer.weights.resize(static_cast<std::size_t>(elements(layer.output_dims)));
      for (auto& v : layer.weights) v = random.uniform(-1.0, 1.0);
      continue;
    }
    const Dims& input = *dims.at(layer.inputs[0]);
    std::int64_t fan_in = 0;
    std::int64_t outputs = 0;
    if (layer.type == LayerType::conv2d) {
      fan_in = input[0] / layer.conv.groups * layer.conv.kernel_h * layer.conv.kernel_w;
      outputs = layer.conv.out_channels;
    } else if (layer.type == LayerType::fc) {
      fan_in = elements(input);
      outputs = layer.fc.out_features;
    } else {
      continue;
    }
    SeededRandom random(stream_seed(graph.seed, i));
    const double bound = std::sqrt(6.0 / static_cast<double>(fan_in));
    layer.weights.resize(static_cast<std::size_t>(outputs * fan_in));
    for (auto& w : layer.weights) w = random.uniform(-bound, bound);
    if (layer.has_bias) {
      layer.bias.resize(static_cast<std::size_t>(outputs));
      for (auto& b : layer.bias) b = random.uniform(-0.1, 0.1);
    }
  }
}

}  // namespace

Graph load_network_json(const std::string& path, const std::function<void(const Graph&)>& before_parameters) {
  const nlohmann::json document = read_json_file(path);
  Graph graph = NetworkReader(document, path).read();
  if (before_parameters) before_parameters(graph);
  fill_parameters(graph);
  return graph;
}

}  // namespace npusim
