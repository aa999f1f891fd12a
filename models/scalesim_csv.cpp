#include "models/scalesim_csv.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string_view>
#include <utility>

#include "models/bounded_read.h"
#include "models/input_error.h"
#include "models/seeded_random.h"

// Follows scalesim/topology_utils.py of scalesim-project/scale-sim-v2
// (load_arrays_conv, load_arrays_gemm, topo_calc_hyperparams).

namespace npusim {
namespace {

// The limits of the JSON network format (docs/network_format.md), so that a
// SCALE-Sim row is accepted exactly when the equivalent JSON layer would be.
constexpr std::int64_t kMaxDim = 65536;
constexpr std::int64_t kMaxWindow = 1024;
constexpr std::int64_t kMaxElements = std::int64_t{1} << 30;
constexpr std::int64_t kMaxWeights = std::int64_t{1} << 28;
constexpr std::size_t kMaxQuoted = 40;  // longest field text quoted in an error

constexpr const char* kExpectedHeader =
    "the SCALE-Sim conv header \"Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, "
    "Channels, Num Filter, Strides,\" or the GEMM header \"Layer, M, N, K,\"";

enum class Form { conv, gemm };

// One header column: its title as SCALE-Sim writes it (compared after
// normalize()) and the largest value the rows may hold (0 for the name column).
struct ColumnSpec {
  const char* title;
  std::int64_t max;
};

const std::vector<ColumnSpec> kConvStrides = {
    {"Layer name", 0},            {"IFMAP Height", kMaxDim}, {"IFMAP Width", kMaxDim}, {"Filter Height", kMaxWindow},
    {"Filter Width", kMaxWindow}, {"Channels", kMaxDim},     {"Num Filter", kMaxDim},  {"Strides", kMaxWindow}};
const std::vector<ColumnSpec> kConvStrideHw = {
    {"Layer name", 0},          {"IFMAP Height", kMaxDim},      {"IFMAP Width", kMaxDim},
    {"Filter Height", kMaxWindow}, {"Filter Width", kMaxWindow}, {"Channels", kMaxDim},
    {"Num Filter", kMaxDim},    {"Stride height", kMaxWindow},  {"Stride width", kMaxWindow}};
const std::vector<ColumnSpec> kGemm = {{"Layer", 0}, {"M", kMaxDim}, {"N", kMaxDim}, {"K", kMaxDim}};
constexpr const char* kSparsityTitle = "sparsity";

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

std::string trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return std::string(text);
}

// Lower case with runs of blanks folded to one space: "IFMAP  height" == "ifmap height".
std::string normalize(std::string_view text) {
  std::string out;
  for (const char c : trim(text)) {
    if (!is_space(c)) {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (out.back() != ' ') {  // trim() leaves no leading blank, so out is not empty
      out += ' ';
    }
  }
  return out;
}

// Comma-separated fields, trimmed, without the comment and without trailing
// empty fields (SCALE-Sim ends rows with a comma; some files do not).
std::vector<std::string> split_fields(std::string_view line) {
  line = line.substr(0, line.find('#'));
  std::vector<std::string> fields;
  for (std::size_t start = 0;;) {
    const std::size_t comma = line.find(',', start);
    if (comma == std::string_view::npos) {
      fields.push_back(trim(line.substr(start)));
      break;
    }
    fields.push_back(trim(line.substr(start, comma - start)));
    start = comma + 1;
  }
  while (!fields.empty() && fields.back().empty()) fields.pop_back();
  return fields;
}

std::string quoted(const std::string& text) {
  if (text.size() <= kMaxQuoted) return "\"" + text + "\"";
  return "\"" + text.substr(0, kMaxQuoted) + "...\"";
}

// SCALE-Sim's output size, ceil((ifmap - filter + stride) / stride): when the
// stride does not divide ifmap - filter, the last window overhangs the IFMAP.
std::int64_t scalesim_ofmap(std::int64_t ifmap, std::int64_t filter, std::int64_t stride) {
  return (ifmap - filter + stride - 1) / stride + 1;
}

struct Row {
  std::size_t line = 0;
  std::vector<std::string> fields;
};

class ScalesimReader {
 public:
  ScalesimReader(std::string path, std::uint64_t seed) : path_(std::move(path)), seed_(seed) {}

  std::vector<Graph> read(const std::function<void(const std::vector<const Graph*>&)>& before_weights) {
    std::istringstream in(read_file_bounded(path_, kMaxTextInputBytes, "SCALE-Sim CSV"));
    std::vector<Row> rows;
    std::string text;
    for (std::size_t line = 1; std::getline(in, text); ++line) {
      if (line == 1 && text.starts_with("\xEF\xBB\xBF")) text.erase(0, 3);  // a spreadsheet's byte-order mark
      // Layer names go into the report's JSON, which cannot hold other bytes.
      require_utf8(text, path_ + ":" + std::to_string(line));
      Row row{line, split_fields(text)};
      if (!row.fields.empty()) rows.push_back(std::move(row));
    }
    if (rows.empty()) throw InputError(path_ + ": expected " + kExpectedHeader + ", got an empty file");
    read_header(rows.front());
    if (rows.size() == 1) {
      throw InputError(path_ + ": expected at least one layer row after the header (line " +
                       std::to_string(rows.front().line) + "), got none");
    }
    std::vector<Graph> graphs;
    for (std::size_t i = 1; i < rows.size(); ++i) {
      graphs.push_back(form_ == Form::conv ? read_conv(rows[i]) : read_gemm(rows[i]));
    }
    if (before_weights) {
      std::vector<const Graph*> all;
      for (const Graph& g : graphs) all.push_back(&g);
      before_weights(all);
    }
    for (std::size_t i = 0; i < graphs.size(); ++i) fill_weights(graphs[i], i);
    return graphs;
  }

 private:
  [[noreturn]] void fail_header(const Row& header, std::size_t column, const std::string& what) const {
    throw InputError(path_ + ":" + std::to_string(header.line) + ": column " + std::to_string(column + 1) + ": " +
                     what);
  }

  [[noreturn]] void fail_column(const Row& row, std::size_t column, const std::string& what) const {
    std::string where = path_ + ":" + std::to_string(row.line) + ": column " + std::to_string(column + 1);
    if (column < titles_.size()) where += " (" + titles_[column] + ")";
    throw InputError(where + ": " + what);
  }

  [[noreturn]] void fail_row(const Row& row, const std::string& what) const {
    throw InputError(path_ + ":" + std::to_string(row.line) + ": layer " + quoted(row.fields[0]) + ": " + what);
  }

  void read_header(const Row& header) {
    const auto& fields = header.fields;
    const std::string second = fields.size() > 1 ? normalize(fields[1]) : "";
    if (second == "m") {
      form_ = Form::gemm;
      columns_ = kGemm;
    } else if (second.starts_with("ifmap")) {
      form_ = Form::conv;
      const bool split_stride = fields.size() > 7 && normalize(fields[7]) == "stride height";
      columns_ = split_stride ? kConvStrideHw : kConvStrides;
    } else {
      std::string got = fields[0];
      for (std::size_t c = 1; c < fields.size(); ++c) got += ", " + fields[c];
      throw InputError(path_ + ":" + std::to_string(header.line) + ": expected " + kExpectedHeader + ", got " +
                       quoted(got));
    }
    const std::string form_name = form_ == Form::conv ? "conv" : "GEMM";
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      const std::string title = columns_[c].title;
      if (c >= fields.size()) {
        fail_header(header, c, "expected \"" + title + "\" (SCALE-Sim " + form_name + " header), got nothing");
      }
      const std::string got = normalize(fields[c]);
      const bool gemm_layer_name = form_ == Form::gemm && c == 0 && got == "layer name";
      if (got != normalize(title) && !gemm_layer_name) {
        fail_header(header, c,
                    "expected \"" + title + "\" (SCALE-Sim " + form_name + " header), got " + quoted(fields[c]));
      }
    }
    // Newer SCALE-Sim versions read an optional last column of N:M sparsity ratios.
    has_sparsity_ = fields.size() > columns_.size() && normalize(fields[columns_.size()]) == kSparsityTitle;
    const std::size_t width = columns_.size() + (has_sparsity_ ? 1 : 0);
    if (fields.size() > width) {
      fail_header(header, width,
                  "expected the end of the header (or a last \"Sparsity\" column), got " + quoted(fields[width]));
    }
    titles_ = fields;
  }

  void check_width(const Row& row) const {
    // SCALE-Sim reads a missing sparsity ratio as dense (1:1).
    const std::size_t width = columns_.size() + (has_sparsity_ ? 1 : 0);
    if (row.fields.size() < columns_.size()) {
      fail_column(row, row.fields.size(),
                  "expected a value, got none (the header has " + std::to_string(width) + " columns)");
    }
    if (row.fields.size() > width) {
      fail_column(row, width,
                  "expected the end of the row (the header has " + std::to_string(width) + " columns), got " +
                      quoted(row.fields[width]));
    }
    if (row.fields[0].empty()) fail_column(row, 0, "expected a layer name, got an empty field");
    if (row.fields.size() > columns_.size()) check_dense(row, columns_.size());
  }

  // npusim models dense layers: a sparsity ratio N:M must keep every weight (N == M).
  void check_dense(const Row& row, std::size_t column) const {
    const std::string& text = row.fields[column];
    const std::size_t colon = text.find(':');
    const std::string n = colon == std::string::npos ? "" : trim(std::string_view(text).substr(0, colon));
    const std::string m = colon == std::string::npos ? "" : trim(std::string_view(text).substr(colon + 1));
    const auto digits = [](const std::string& s) {
      return !s.empty() && s.size() < 10 && s.find_first_not_of("0123456789") == std::string::npos;
    };
    if (!digits(n) || !digits(m) || std::stoll(n) < 1 || std::stoll(n) > std::stoll(m)) {
      fail_column(row, column, "expected a sparsity ratio N:M with 1 <= N <= M, got " + quoted(text));
    }
    if (std::stoll(n) != std::stoll(m)) {
      fail_column(row, column,
                  "expected a dense ratio (N:N, such as 1:1), got " + quoted(text) +
                      " (npusim does not model SCALE-Sim's structured sparsity)");
    }
  }

  std::int64_t integer(const Row& row, std::size_t column) const {
    const std::string& text = row.fields[column];
    const std::int64_t max = columns_[column].max;
    std::int64_t value = 0;
    const char* end = text.data() + text.size();
    const bool digits_only = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
    const auto [ptr, error] = std::from_chars(text.data(), end, value);
    if (!digits_only || error != std::errc{} || ptr != end || value < 1 || value > max) {
      fail_column(row, column, "expected an integer in [1, " + std::to_string(max) + "], got " + quoted(text));
    }
    return value;
  }

  Graph single_layer_graph(const Row& row, std::vector<std::int64_t> input_dims) const {
    Graph graph;
    graph.name = row.fields[0];
    graph.input_name = row.fields[0] + ".ifmap";
    graph.input_dims = std::move(input_dims);
    graph.seed = seed_;
    Layer layer;
    layer.name = row.fields[0];
    layer.type = LayerType::conv2d;
    layer.inputs = {graph.input_name};
    layer.has_bias = false;  // SCALE-Sim layers are plain GEMMs
    graph.layers.push_back(std::move(layer));
    return graph;
  }

  void check_sizes(const Row& row, const Graph& graph) const {
    const auto& in = graph.input_dims;
    const Conv2dParams& c = graph.layers[0].conv;
    if (in[0] * in[1] * in[2] > kMaxElements) {
      fail_row(row, "expected an input of at most 2^30 elements, got " + std::to_string(in[0] * in[1] * in[2]));
    }
    const std::int64_t weights = c.out_channels * (in[0] / c.groups) * c.kernel_h * c.kernel_w;
    if (weights > kMaxWeights) fail_row(row, "expected at most 2^28 weights, got " + std::to_string(weights));
  }

  Graph read_conv(const Row& row) const {
    check_width(row);
    const std::int64_t h = integer(row, 1), w = integer(row, 2);
    const std::int64_t r = integer(row, 3), s = integer(row, 4);
    const std::int64_t channels = integer(row, 5), filters = integer(row, 6);
    const std::int64_t stride_h = integer(row, 7);
    const std::int64_t stride_w = columns_.size() > 8 ? integer(row, 8) : stride_h;
    // SCALE-Sim asserts the same (its convolutions have no padding).
    if (r > h) {
      fail_column(row, 3, "expected at most the IFMAP height " + std::to_string(h) + ", got " + std::to_string(r));
    }
    if (s > w) {
      fail_column(row, 4, "expected at most the IFMAP width " + std::to_string(w) + ", got " + std::to_string(s));
    }
    // SCALE-Sim splits a "DP" row into `channels` one-channel layers of `filters` filters each.
    const bool depthwise = row.fields[0].find("DP") != std::string::npos;
    if (depthwise && channels * filters > kMaxDim) {
      fail_column(row, 6,
                  "expected Channels x Num Filter of this depthwise (\"DP\") row to be at most " +
                      std::to_string(kMaxDim) + ", got " + std::to_string(channels * filters));
    }
    Graph graph = single_layer_graph(row, {channels, h, w});
    Layer& layer = graph.layers[0];
    Conv2dParams& conv = layer.conv;
    conv.out_channels = depthwise ? channels * filters : filters;
    conv.groups = depthwise ? static_cast<int>(channels) : 1;
    conv.kernel_h = static_cast<int>(r);
    conv.kernel_w = static_cast<int>(s);
    conv.stride_h = static_cast<int>(stride_h);
    conv.stride_w = static_cast<int>(stride_w);
    const std::int64_t oh = scalesim_ofmap(h, r, stride_h), ow = scalesim_ofmap(w, s, stride_w);
    // Zero rows/columns under the overhanging last window give SCALE-Sim's
    // output size (and MAC count) with npusim's floor-rounded convolution.
    conv.pad_bottom = static_cast<int>((oh - 1) * stride_h + r - h);
    conv.pad_right = static_cast<int>((ow - 1) * stride_w + s - w);
    layer.output_dims = {conv.out_channels, oh, ow};
    check_sizes(row, graph);
    return graph;
  }

  // A GEMM (M x K) * (K x N) is a 1x1 convolution over M pixels of K channels.
  Graph read_gemm(const Row& row) const {
    check_width(row);
    const std::int64_t m = integer(row, 1), n = integer(row, 2), k = integer(row, 3);
    Graph graph = single_layer_graph(row, {k, 1, m});
    Layer& layer = graph.layers[0];
    layer.conv.out_channels = n;
    layer.output_dims = {n, 1, m};
    check_sizes(row, graph);
    return graph;
  }

  // He-uniform, as docs/network_format.md specifies, with the row index as
  // the layer index.
  void fill_weights(Graph& graph, std::size_t row_index) const {
    Layer& layer = graph.layers[0];
    const std::int64_t fan_in = graph.input_dims[0] / layer.conv.groups * layer.conv.kernel_h * layer.conv.kernel_w;
    SeededRandom random(stream_seed(seed_, row_index));
    const double bound = std::sqrt(6.0 / static_cast<double>(fan_in));
    layer.weights.resize(static_cast<std::size_t>(layer.conv.out_channels * fan_in));
    for (auto& weight : layer.weights) weight = random.uniform(-bound, bound);
  }

  std::string path_;
  std::uint64_t seed_;
  Form form_ = Form::conv;
  std::vector<ColumnSpec> columns_;  // without the optional sparsity column
  bool has_sparsity_ = false;
  std::vector<std::string> titles_;  // the header's titles as the file spells them
};

}  // namespace

std::vector<Graph> load_scalesim_csv(const std::string& path, std::uint64_t seed,
                                     const std::function<void(const std::vector<const Graph*>&)>& before_weights) {
  return ScalesimReader(path, seed).read(before_weights);
}

}  // namespace npusim
