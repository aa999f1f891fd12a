#include "models/scalesim_csv.h"

#include <cmath>
#include <limits>
#include <optional>
#include <string_view>
#include <utility>

#include "models/bounded_read.h"
#include "models/input_error.h"
#include "models/python_text.h"
#include "models/seeded_random.h"

// Follows scalesim/topology_utils.py of scalesim-project/scale-sim-v2
// (load_arrays_conv, load_arrays_gemm, append_topo_arrays, topo_calc_hyperparams).

namespace npusim {
namespace {

// Values go into int fields (kernel, stride, groups).
constexpr std::int64_t kMaxValue = std::numeric_limits<int>::max();
// Per row: input and output elements, weights, MACs. 2^48 MACs is 100x the
// largest topology SCALE-Sim ships; with at most 2^22 rows in a 64 MiB file,
// kMaxTotalMacs keeps every sum a report takes inside int64.
constexpr std::int64_t kMaxCount = std::int64_t{1} << 48;
constexpr std::int64_t kMaxTotalMacs = std::int64_t{1} << 62;
constexpr std::size_t kMaxQuoted = 40;  // longest field text quoted in an error

enum class Form { conv, gemm };

// Value counts (the name included) each form allows.
constexpr std::size_t kConvMin = 8, kConvMax = 10, kGemmMin = 4, kGemmMax = 5;

constexpr const char* kConvTitles[] = {"Layer name", "IFMAP height", "IFMAP width", "Filter height", "Filter width",
                                       "Channels",   "Num filter",   "Strides",     "Stride width",  "Sparsity"};
constexpr const char* kGemmTitles[] = {"Layer", "M", "N", "K", "Sparsity"};

bool fits(Form form, std::size_t count) {
  return form == Form::conv ? count >= kConvMin && count <= kConvMax : count >= kGemmMin && count <= kGemmMax;
}

// A field as it stands in its line: stripped, and the 1-based character
// column where it starts (for naming invisible characters).
struct Field {
  std::string_view text;
  std::size_t column = 0;
};

struct Row {
  std::size_t line = 0;
  std::vector<Field> fields;
  bool trailing_comma = false;
  std::string name;  // fields[0], or "line <n>" when that is empty
};

std::string quote_text(std::string_view text) {
  std::size_t cut = text.size();
  if (cut > kMaxQuoted) {
    cut = kMaxQuoted;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // whole characters
  }
  std::string out(1, '"');
  out.append(text.substr(0, cut));
  out.append(cut < text.size() ? "...\"" : "\"");
  return out;
}

// SCALE-Sim's output size, ceil((ifmap - filter + stride) / stride): when the
// stride does not divide ifmap - filter, the last window overhangs the IFMAP.
std::int64_t scalesim_ofmap(std::int64_t ifmap, std::int64_t filter, std::int64_t stride) {
  return (ifmap - filter + stride - 1) / stride + 1;
}

// The product, or nullopt past kMaxCount.
std::optional<std::int64_t> bounded_product(std::initializer_list<std::int64_t> factors) {
  std::int64_t product = 1;
  for (const std::int64_t f : factors) {
    const auto next = checked_mul(product, f);
    if (!next || *next > kMaxCount) return std::nullopt;
    product = *next;
  }
  return product;
}

class ScalesimReader {
 public:
  ScalesimReader(std::string path, std::uint64_t seed) : path_(std::move(path)), seed_(seed) {}

  std::vector<Graph> read(const std::function<void(const std::vector<const Graph*>&)>& before_weights) {
    content_ = read_file_bounded(path_, kMaxTextInputBytes, "SCALE-Sim CSV");
    const std::vector<std::string_view> lines = python_lines(content_);
    if (lines.empty()) throw InputError(path_ + ": expected a header line and layer rows, got an empty file");
    std::vector<Graph> graphs;
    std::int64_t total_macs = 0;
    for (std::size_t i = 0; i < lines.size(); ++i) {
      const std::size_t line = i + 1;
      // Layer names go into the report's JSON, which cannot hold other bytes.
      require_utf8(std::string(lines[i]), path_ + ":" + std::to_string(line));
      if (line == 1) continue;  // the header: SCALE-Sim skips line 1 unread
      auto row = split(lines[i], line);
      if (!row) continue;
      graphs.push_back(read_row(*row));
      const auto sum = checked_add(total_macs, graphs.back().total_macs());
      if (!sum || *sum > kMaxTotalMacs) {
        throw InputError(path_ + ":" + std::to_string(line) + ": expected a file of at most 2^62 MACs in all, " +
                         "got more by this row");
      }
      total_macs = *sum;
    }
    if (graphs.empty()) {
      throw InputError(path_ + ": expected layer rows after the header (line 1, which SCALE-Sim skips), got none");
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
  std::string where(std::size_t line) const { return path_ + ":" + std::to_string(line); }

  [[noreturn]] void fail_field(const Row& row, std::size_t index, const std::string& what,
                               const char* title = nullptr) const {
    if (!title) title = form_ == Form::conv ? kConvTitles[index] : kGemmTitles[index];
    throw InputError(where(row.line) + ": field " + std::to_string(index + 1) + " (" + title + "): " + what);
  }

  [[noreturn]] void fail_row(const Row& row, const std::string& what) const {
    throw InputError(where(row.line) + ": layer " + quote_text(row.name) + ": " + what);
  }

  // The row's fields, or nullopt for a line without any (blank, a comment,
  // or only commas). Throws for a line without commas.
  std::optional<Row> split(std::string_view text, std::size_t line) const {
    const std::size_t lead = python_leading_space(text);
    std::string_view body = python_strip(text);
    if (body.empty() || body.front() == '#') return std::nullopt;
    const std::size_t first_comma = body.find(',');
    if (first_comma == std::string_view::npos) {
      if (body.find('\t') != std::string_view::npos) {
        throw InputError(where(line) + ": expected comma-separated fields, got a tab-separated line " +
                         "(SCALE-Sim splits rows at commas only; save the file as CSV)");
      }
      throw InputError(where(line) + ": expected comma-separated fields (a layer name, then 7 or 8 integers for " +
                       "a conv row or 3 for a GEMM row), got " + quote_text(body) +
                       describe_unusual_characters(body, count_characters(text.substr(0, lead)) + 1));
    }
    body = body.substr(0, body.find('#', first_comma));
    Row row;
    row.line = line;
    for (std::size_t start = 0;;) {
      const std::size_t comma = std::min(body.find(',', start), body.size());
      const std::string_view raw = body.substr(start, comma - start);
      const std::size_t offset = lead + start + python_leading_space(raw);
      row.fields.push_back({python_strip(raw), count_characters(text.substr(0, offset)) + 1});
      if (comma == body.size()) break;
      start = comma + 1;
    }
    row.trailing_comma = row.fields.back().text.empty();
    while (!row.fields.empty() && row.fields.back().text.empty()) row.fields.pop_back();
    if (row.fields.empty()) return std::nullopt;
    return row;
  }

  // Applies SCALE-Sim's dropping of the last field and settles the file's form
  // on its first row.
  void settle_width(Row& row) {
    const std::size_t n = row.fields.size();
    const auto accepts = [&](std::size_t count) {
      if (form_known_) return fits(form_, count);
      if (fits(Form::conv, count) || fits(Form::gemm, count)) {
        form_ = fits(Form::conv, count) ? Form::conv : Form::gemm;
        form_known_ = true;
        first_row_line_ = row.line;
        return true;
      }
      return false;
    };
    if (!row.trailing_comma && n > 1 && accepts(n - 1)) {
      row.fields.pop_back();  // SCALE-Sim's reading: the last field is not a value
      return;
    }
    if (accepts(n)) return;
    const std::string got = ", got " + std::to_string(n) + " field" + (n == 1 ? "" : "s");
    if (!form_known_) {
      throw InputError(where(row.line) + ": expected a conv row (a layer name and 7 or 8 integers) or a GEMM row " +
                       "(a layer name, M, N, K), each with an optional N:M sparsity ratio" + got);
    }
    const std::string like = " like line " + std::to_string(first_row_line_);
    throw InputError(where(row.line) + ": expected " +
                     (form_ == Form::conv
                          ? "a conv row" + like + " (a layer name and 7 or 8 integers, then an optional N:M ratio)"
                          : "a GEMM row" + like + " (a layer name, M, N, K, then an optional N:M ratio)") +
                     got);
  }

  std::int64_t integer(const Row& row, std::size_t index) const {
    const Field& field = row.fields[index];
    const auto value = python_int(field.text);
    if (!value || *value < 1 || *value > kMaxValue) {
      std::string hint;
      bool all_words = true;
      for (std::size_t i = 1; i < row.fields.size(); ++i) all_words = all_words && !python_int(row.fields[i].text);
      if (all_words) hint = " (a label row: SCALE-Sim reads only line 1 as the header and stops on this one)";
      fail_field(row, index,
                 "expected an integer in [1, " + std::to_string(kMaxValue) + "], got " + quote_text(field.text) +
                     describe_unusual_characters(field.text, field.column) + hint);
    }
    return *value;
  }

  // npusim models dense layers: a sparsity ratio N:M must keep every weight (N == M).
  void check_dense(const Row& row, std::size_t index) const {
    const std::string_view text = row.fields[index].text;
    const std::size_t colon = text.find(':');
    const auto n = colon == std::string_view::npos ? std::nullopt : python_int(text.substr(0, colon));
    const auto m = colon == std::string_view::npos ? std::nullopt : python_int(text.substr(colon + 1));
    if (!n || !m || *n < 1 || *n > *m) {
      fail_field(row, index,
                 "expected a sparsity ratio N:M with 1 <= N <= M, got " + quote_text(text) +
                     describe_unusual_characters(text, row.fields[index].column),
                 "Sparsity");
    }
    if (*n != *m) {
      fail_field(row, index,
                 "expected a dense ratio (N:N, such as 1:1), got " + quote_text(text) +
                     " (npusim does not model SCALE-Sim's structured sparsity)",
                 "Sparsity");
    }
  }

  Graph read_row(Row& row) {
    settle_width(row);
    row.name = row.fields[0].text.empty() ? "line " + std::to_string(row.line) : std::string(row.fields[0].text);
    return form_ == Form::conv ? read_conv(row) : read_gemm(row);
  }

  Graph single_layer_graph(const Row& row, std::vector<std::int64_t> input_dims) const {
    const std::string& name = row.name;
    Graph graph;
    graph.name = name;
    graph.input_name = name + ".ifmap";
    graph.input_dims = std::move(input_dims);
    graph.seed = seed_;
    Layer layer;
    layer.name = name;
    layer.type = LayerType::conv2d;
    layer.inputs = {graph.input_name};
    layer.has_bias = false;  // SCALE-Sim layers are plain GEMMs
    graph.layers.push_back(std::move(layer));
    return graph;
  }

  void check_sizes(const Row& row, const Graph& graph, std::int64_t window) const {
    const auto& in = graph.input_dims;
    const auto& out = graph.layers[0].output_dims;
    const Conv2dParams& c = graph.layers[0].conv;
    const auto bound = [&](std::optional<std::int64_t> count, const std::string& what) {
      if (!count) fail_row(row, "expected " + what + " of at most 2^48, got more");
    };
    bound(bounded_product({in[0], in[1], in[2]}), "an input element count");
    bound(bounded_product({out[0], out[1], out[2]}), "an output element count");
    bound(bounded_product({c.out_channels, in[0] / c.groups, window}), "a weight count");
    bound(bounded_product({out[0], out[1], out[2], in[0] / c.groups, window}), "a MAC count");
  }

  Graph read_conv(const Row& row) const {
    const std::int64_t h = integer(row, 1), w = integer(row, 2);
    const std::int64_t r = integer(row, 3), s = integer(row, 4);
    const std::int64_t channels = integer(row, 5), filters = integer(row, 6);
    const std::int64_t stride_h = integer(row, 7);
    std::int64_t stride_w = stride_h;  // SCALE-Sim: "Add the same stride in the col direction"
    const std::size_t n = row.fields.size();
    if (n >= 9 && row.fields[8].text.find(':') != std::string_view::npos) {
      if (n == 10)
        fail_field(row, 9,
                   "expected the end of the row after the sparsity ratio, got " + quote_text(row.fields[9].text));
      check_dense(row, 8);
    } else if (n >= 9) {
      stride_w = integer(row, 8);
      if (n == 10) check_dense(row, 9);
    }
    // SCALE-Sim asserts the same (its convolutions have no padding).
    if (r > h)
      fail_field(row, 3, "expected at most the IFMAP height " + std::to_string(h) + ", got " + std::to_string(r));
    if (s > w)
      fail_field(row, 4, "expected at most the IFMAP width " + std::to_string(w) + ", got " + std::to_string(s));
    // SCALE-Sim splits a "DP" row into `channels` one-channel layers of `filters` filters each.
    const bool depthwise = row.name.find("DP") != std::string::npos;
    const auto out_channels = bounded_product({channels, filters});
    if (!out_channels) fail_row(row, "expected Channels x Num filter of at most 2^48, got more");
    Graph graph = single_layer_graph(row, {channels, h, w});
    Layer& layer = graph.layers[0];
    Conv2dParams& conv = layer.conv;
    conv.out_channels = depthwise ? *out_channels : filters;
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
    check_sizes(row, graph, r * s);
    return graph;
  }

  // A GEMM (M x K) * (K x N) is a 1x1 convolution over M pixels of K channels.
  Graph read_gemm(const Row& row) const {
    const std::int64_t m = integer(row, 1), n = integer(row, 2), k = integer(row, 3);
    if (row.fields.size() == kGemmMax) check_dense(row, 4);
    Graph graph = single_layer_graph(row, {k, 1, m});
    Layer& layer = graph.layers[0];
    layer.conv.out_channels = n;
    layer.output_dims = {n, 1, m};
    check_sizes(row, graph, 1);
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
  std::string content_;  // the file; rows' fields view into it
  Form form_ = Form::conv;
  bool form_known_ = false;
  std::size_t first_row_line_ = 0;
};

}  // namespace

std::vector<Graph> load_scalesim_csv(const std::string& path, std::uint64_t seed,
                                     const std::function<void(const std::vector<const Graph*>&)>& before_weights) {
  return ScalesimReader(path, seed).read(before_weights);
}

}  // namespace npusim
