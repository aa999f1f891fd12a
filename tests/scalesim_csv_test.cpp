#include "models/scalesim_csv.h"

#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "models/input_error.h"
#include "models/network_json.h"

namespace npusim {
namespace {

namespace fs = std::filesystem;
using Dims = std::vector<std::int64_t>;

#define EXPECT_CONTAINS(text, part) EXPECT_PRED_FORMAT2(::testing::IsSubstring, part, text)

const std::string kZoo = std::string(NPUSIM_SOURCE_DIR) + "/models/zoo/";
const std::string kConvHeader =
    "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n";

std::int64_t total_macs(const std::vector<Graph>& graphs) {
  std::int64_t total = 0;
  for (const auto& graph : graphs) total += graph.total_macs();
  return total;
}

// SCALE-Sim's own output size (scalesim/topology_utils.py, topo_calc_hyperparams):
// int(math.ceil((ifmap - filter + stride) / stride)).
std::int64_t scalesim_ofmap(std::int64_t ifmap, std::int64_t filter, std::int64_t stride) {
  return static_cast<std::int64_t>(std::ceil(static_cast<double>(ifmap - filter + stride) / stride));
}

TEST(ScalesimCsv, AlexNetExampleMatchesTheZooNetwork) {
  const auto graphs = load_scalesim_csv(kZoo + "scalesim/alexnet_conv.csv", 3);
  ASSERT_EQ(graphs.size(), 8u);
  EXPECT_EQ(graphs[0].name, "Conv1");
  EXPECT_EQ(graphs[0].input_dims, (Dims{3, 227, 227}));
  ASSERT_EQ(graphs[0].layers.size(), 1u);
  const Layer& conv1 = graphs[0].layers[0];
  EXPECT_EQ(conv1.type, LayerType::conv2d);
  EXPECT_EQ(conv1.inputs, (std::vector<std::string>{graphs[0].input_name}));
  EXPECT_EQ(conv1.conv.stride_h, 4);
  EXPECT_EQ(conv1.conv.stride_w, 4);
  EXPECT_EQ(conv1.conv.pad_top + conv1.conv.pad_left + conv1.conv.pad_bottom + conv1.conv.pad_right, 0);
  EXPECT_FALSE(conv1.has_bias);
  EXPECT_TRUE(conv1.bias.empty());
  EXPECT_EQ(conv1.activation, Activation::none);
  EXPECT_EQ(conv1.output_dims, (Dims{64, 55, 55}));
  EXPECT_EQ(conv1.weights.size(), 64u * 3 * 11 * 11);
  EXPECT_EQ(graphs[1].layers[0].output_dims, (Dims{192, 27, 27}));
  EXPECT_EQ(graphs[5].layers[0].output_dims, (Dims{4096, 1, 1}));  // FC6 as a 6x6 conv over 6x6
  // The same layers as models/zoo/alexnet.json, with its padding folded into the IFMAP size.
  const Graph zoo = load_network_json(kZoo + "alexnet.json");
  EXPECT_EQ(total_macs(graphs), zoo.total_macs());
  EXPECT_EQ(total_macs(graphs), 714188480);
}

TEST(ScalesimCsv, GemmExampleIsTheBertLayer) {
  const auto graphs = load_scalesim_csv(kZoo + "scalesim/gemm.csv", 3);
  ASSERT_EQ(graphs.size(), 6u);
  EXPECT_EQ(graphs[4].name, "ffn.up");
  EXPECT_EQ(graphs[4].input_dims, (Dims{768, 1, 128}));  // [K, 1, M]
  const Layer& up = graphs[4].layers[0];
  EXPECT_EQ(up.conv.kernel_h * up.conv.kernel_w, 1);
  EXPECT_EQ(up.output_dims, (Dims{3072, 1, 128}));  // [N, 1, M]
  EXPECT_EQ(graphs[4].total_macs(), 128 * 3072 * 768);
  EXPECT_EQ(graphs[5].total_macs(), 128 * 768 * 3072);
  EXPECT_EQ(total_macs(graphs), load_network_json(kZoo + "bert_base_layer_s128.json").total_macs());
}

class ScalesimFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ =
        fs::temp_directory_path() / ("npusim_scalesim_" + std::string(info->name()) + "_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& text, const std::string& name = "topo.csv") {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  std::string error_of(const std::string& text) {
    const std::string path = write(text);
    try {
      load_scalesim_csv(path, 1);
    } catch (const InputError& error) {
      return error.what();
    }
    ADD_FAILURE() << "no InputError for:\n" << text;
    return "";
  }

  std::string file() const { return (dir_ / "topo.csv").string(); }

  fs::path dir_;
};

TEST_F(ScalesimFiles, OutputSizesAndMacsFollowScalesim) {
  // Strides that do not divide (H - R) and non-square shapes.
  const auto graphs = load_scalesim_csv(write(kConvHeader + "a, 10, 17, 3, 5, 4, 6, 4,\n"
                                                            "b, 9, 9, 9, 9, 2, 3, 2,\n"
                                                            "c, 1024, 10, 1, 10, 1, 4, 1,\n"),
                                        1);
  const std::vector<std::vector<std::int64_t>> rows = {
      {10, 17, 3, 5, 4, 6, 4}, {9, 9, 9, 9, 2, 3, 2}, {1024, 10, 1, 10, 1, 4, 1}};
  ASSERT_EQ(graphs.size(), rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    const std::int64_t oh = scalesim_ofmap(r[0], r[2], r[6]), ow = scalesim_ofmap(r[1], r[3], r[6]);
    EXPECT_EQ(graphs[i].layers[0].output_dims, (Dims{r[5], oh, ow})) << i;
    // SCALE-Sim: num_mac = ofmap_h * ofmap_w * filt_h * filt_w * num_ch * num_filt
    EXPECT_EQ(graphs[i].total_macs(), oh * ow * r[2] * r[3] * r[4] * r[5]) << i;
  }
  // Hand: 10 rows, 3-row window, stride 4: windows start at 0, 4, 8; the last one
  // overhangs by one row, which becomes bottom padding. 17 columns, 5 wide: 0, 4, 8, 12.
  const Conv2dParams& a = graphs[0].layers[0].conv;
  EXPECT_EQ(graphs[0].layers[0].output_dims, (Dims{6, 3, 4}));
  EXPECT_EQ(a.pad_bottom, 1);
  EXPECT_EQ(a.pad_right, 0);
  EXPECT_EQ(a.pad_top + a.pad_left, 0);
  EXPECT_EQ(graphs[1].layers[0].output_dims, (Dims{3, 1, 1}));
  EXPECT_EQ(graphs[1].layers[0].conv.pad_bottom, 0);
}

TEST_F(ScalesimFiles, HeaderLineIsSkippedWhateverItSays) {
  // SCALE-Sim's load_arrays_conv/gemm skip line 1 unread: a misspelled, empty or
  // foreign header, or one with U+00A0 after its commas, changes nothing.
  const std::string row = "c, 12, 12, 3, 3, 2, 4, 1,\n";
  for (const std::string& header :
       {std::string("name, height, width\n"), std::string("\n"), std::string("Layer,M,N,K\n"),
        std::string("Layer name,\u00a0IFMAP Height,\u00a0IFMAP Width,\n"), std::string("\xEF\xBB\xBF\t;;;\n")}) {
    const auto graphs = load_scalesim_csv(write(header + row), 1);
    ASSERT_EQ(graphs.size(), 1u) << header;
    // Hand: ceil((12 - 3 + 1) / 1) = 10 per side; 10 * 10 * 3 * 3 * 2 * 4 = 7200.
    EXPECT_EQ(graphs[0].total_macs(), 7200) << header;
  }
  // A layer on line 1 is skipped, as SCALE-Sim does.
  EXPECT_EQ(load_scalesim_csv(write(row + row), 1).size(), 1u);
}

TEST_F(ScalesimFiles, TrailingCommaConvention) {
  // SCALE-Sim drops each row's last comma-separated field (row.split(',')[:-1]).
  // Nine values without a trailing comma: the ninth is that last field, so the
  // stride (4) applies to both directions: ceil((17 - 5 + 4) / 4) = 4 columns.
  const auto dropped = load_scalesim_csv(write(kConvHeader + "a, 10, 17, 3, 5, 4, 6, 4, 2\n"), 1);
  EXPECT_EQ(dropped[0].layers[0].conv.stride_w, 4);
  EXPECT_EQ(dropped[0].layers[0].output_dims, (Dims{6, 3, 4}));
  // With the trailing comma the ninth value is the stride width: ceil((17 - 5 + 2) / 2) = 7.
  const auto kept = load_scalesim_csv(write(kConvHeader + "a, 10, 17, 3, 5, 4, 6, 4, 2,\n"), 1);
  EXPECT_EQ(kept[0].layers[0].conv.stride_w, 2);
  EXPECT_EQ(kept[0].layers[0].output_dims, (Dims{6, 3, 7}));
  // Eight values without the comma: dropping one would leave a row SCALE-Sim
  // stops on (IndexError); npusim reads all eight. The same for a GEMM row of 4.
  const auto eight = load_scalesim_csv(write(kConvHeader + "a, 10, 17, 3, 5, 4, 6, 4\n"), 1);
  EXPECT_EQ(eight[0].layers[0].output_dims, (Dims{6, 3, 4}));
  const auto gemm = load_scalesim_csv(write("Layer,M,N,K\ng,3,5,7\nh,2,2,2,1:1\n"), 1);
  ASSERT_EQ(gemm.size(), 2u);
  EXPECT_EQ(gemm[0].total_macs(), 3 * 5 * 7);
  EXPECT_EQ(gemm[1].total_macs(), 8);  // "1:1" is the dropped last field
  // Blanks after the last comma, a comment after it, and Python's whitespace
  // (tab, U+00A0, U+3000) around values.
  const auto spaced = load_scalesim_csv(write(kConvHeader + "\ta,\u00a010 , 17,3,5,4,6,4,\u3000\n"
                                                            "b, 10, 17, 3, 5, 4, 6, 4, #dw\n"),
                                        1);
  ASSERT_EQ(spaced.size(), 2u);
  EXPECT_EQ(spaced[0].name, "a");
  EXPECT_EQ(spaced[1].layers[0].output_dims, (Dims{6, 3, 4}));
}

TEST_F(ScalesimFiles, LinesWithoutValuesAreSkipped) {
  // Blank lines (SCALE-Sim skips them), rows of empty fields (a spreadsheet's
  // blank row, which SCALE-Sim stops on), '#' lines, CR and CRLF line ends.
  const auto graphs = load_scalesim_csv(
      write(kConvHeader + ",,,,,,,,\r\n\r\n# a comment\ra, 6, 6, 3, 3, 1, 1, 1,\r ,, ,\nb, 6, 6, 3, 3, 1, 1, 1,"), 1);
  ASSERT_EQ(graphs.size(), 2u);
  EXPECT_EQ(graphs[1].name, "b");
}

TEST_F(ScalesimFiles, ValuesAsPythonIntReadsThem) {
  // int() takes a sign, underscores between digits and leading zeros; values
  // may be as large as int holds (no 65,536 or 1,024 caps).
  const auto graphs = load_scalesim_csv(write("Layer,M,N,K\ng,+4_186_116,0064,9,\n"), 1);
  EXPECT_EQ(graphs[0].input_dims, (Dims{9, 1, 4186116}));
  EXPECT_EQ(graphs[0].total_macs(), std::int64_t{4186116} * 64 * 9);
  const auto wide = load_scalesim_csv(write(kConvHeader + "QKTV,10,10000,1,10000,1,2,1,\n"), 1);
  EXPECT_EQ(wide[0].layers[0].conv.kernel_w, 10000);
  EXPECT_EQ(wide[0].layers[0].output_dims, (Dims{2, 10, 1}));
}

TEST_F(ScalesimFiles, EmptyNameIsNamedAfterItsLine) {
  const auto graphs = load_scalesim_csv(write(kConvHeader + "\n , 6, 6, 3, 3, 1, 1, 1,\n"), 1);
  EXPECT_EQ(graphs[0].name, "line 3");
  EXPECT_EQ(graphs[0].input_name, "line 3.ifmap");
}

TEST_F(ScalesimFiles, DepthwiseRowsAreGroupedConvolutions) {
  // SCALE-Sim splits a row whose name contains "DP" into C one-channel layers of N filters.
  const auto graphs = load_scalesim_csv(write(kConvHeader + "DP1, 10, 10, 3, 3, 8, 1, 1,\n"
                                                            "block_DP2, 10, 10, 3, 3, 8, 2, 1,\n"
                                                            "dp3, 10, 10, 3, 3, 8, 1, 1,\n"),
                                        1);
  ASSERT_EQ(graphs.size(), 3u);
  const Layer& dw = graphs[0].layers[0];
  EXPECT_EQ(dw.conv.groups, 8);
  EXPECT_EQ(dw.output_dims, (Dims{8, 8, 8}));
  EXPECT_EQ(dw.weights.size(), 8u * 1 * 3 * 3);
  EXPECT_EQ(graphs[0].total_macs(), 8 * (8 * 8 * 3 * 3 * 1 * 1));  // 8 layers of SCALE-Sim's formula
  EXPECT_EQ(graphs[1].layers[0].conv.groups, 8);
  EXPECT_EQ(graphs[1].layers[0].output_dims, (Dims{16, 8, 8}));  // depth multiplier 2
  EXPECT_EQ(graphs[1].total_macs(), 8 * (8 * 8 * 3 * 3 * 1 * 2));
  EXPECT_EQ(graphs[2].layers[0].conv.groups, 1);  // SCALE-Sim matches "DP" case-sensitively
  EXPECT_EQ(graphs[2].total_macs(), 8 * 8 * 3 * 3 * 8 * 1);
}

TEST_F(ScalesimFiles, RowWeightsAreThoseOfTheEquivalentJsonLayer) {
  // Row i draws from stream_seed(seed, i), like layer i of a JSON network; layer 0 of the
  // JSON below is a placeholder so that the conv is layer 1 and reads the graph input.
  const auto graphs = load_scalesim_csv(write(kConvHeader + "first, 6, 6, 3, 3, 2, 4, 1,\n"
                                                            "second, 7, 5, 3, 2, 3, 5, 2,\n"),
                                        42);
  ASSERT_EQ(graphs.size(), 2u);
  const std::string json = write(R"({"format_version": 1, "name": "same", "seed": 42,
      "input": {"name": "x", "shape": [3, 7, 5]},
      "layers": [
        {"name": "placeholder", "type": "relu", "input": "x"},
        {"name": "conv", "type": "conv2d", "input": "x", "filters": 5, "kernel": [3, 2], "stride": [2, 2],
         "padding": [0, 0, 0, 1], "bias": false}]})",
                                 "same.json");
  const Graph reference = load_network_json(json);
  const Layer& expected = reference.layers[1];
  const Layer& got = graphs[1].layers[0];
  ASSERT_EQ(got.weights.size(), expected.weights.size());
  EXPECT_EQ(std::memcmp(got.weights.data(), expected.weights.data(), got.weights.size() * sizeof(float)), 0);
  EXPECT_EQ(got.output_dims, expected.output_dims);  // [5, 3, 3]: the last column window overhangs
  EXPECT_EQ(got.conv.pad_right, 1);
  EXPECT_EQ(graphs[1].seed, 42u);
  // A different seed, or the same shape on another row, gives other weights.
  const auto reseeded = load_scalesim_csv(write(kConvHeader + "first, 6, 6, 3, 3, 2, 4, 1,\n", "b.csv"), 43);
  EXPECT_NE(reseeded[0].layers[0].weights, graphs[0].layers[0].weights);
  const auto twice =
      load_scalesim_csv(write(kConvHeader + "a, 6, 6, 3, 3, 2, 4, 1,\nb, 6, 6, 3, 3, 2, 4, 1,\n", "c.csv"), 42);
  EXPECT_EQ(twice[0].layers[0].weights, graphs[0].layers[0].weights);
  EXPECT_NE(twice[1].layers[0].weights, twice[0].layers[0].weights);
}

TEST_F(ScalesimFiles, DenseSparsityRatiosAreAccepted) {
  // Newer SCALE-Sim (topologies/sparsity/*.csv) ends rows with an N:M ratio; a missing one is 1:1.
  const auto graphs =
      load_scalesim_csv(write(kConvHeader.substr(0, kConvHeader.size() - 1) + " Sparsity,\n"
                                                                              "CONV_1, 5, 5, 3, 3, 2, 6, 1, 1:1,\n"
                                                                              "CONV_2, 5, 5, 3, 3, 2, 6, 1, 4 : 4,\n"
                                                                              "CONV_3, 5, 5, 3, 3, 2, 6, 1,\n"),
                        1);
  ASSERT_EQ(graphs.size(), 3u);
  for (const auto& graph : graphs) EXPECT_EQ(graph.total_macs(), 3 * 3 * 3 * 3 * 2 * 6);
}

struct BadCsv {
  const char* what;
  std::string text;
  std::string location;  // after "<file>:"
  std::string expected;
};

TEST_F(ScalesimFiles, BadInputNamesFileLineAndField) {
  const std::string gemm = "Layer, M, N, K,\n";
  const std::string sparse =
      "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
      "Num Filter, Strides, Sparsity,\n";
  const std::string max = "2147483647";
  const std::vector<BadCsv> cases = {
      {"sparse row", gemm + "GEMM_1, 3, 5, 16, 1:1,\nGEMM_2, 3, 5, 16, 3:4,\n", "3: field 5 (Sparsity): ",
       "expected a dense ratio (N:N, such as 1:1), got \"3:4\" (npusim does not model SCALE-Sim's structured"},
      {"bad ratio", sparse + "a, 8, 8, 3, 3, 1, 1, 1, 4:2,\n",
       "2: field 9 (Sparsity): ", "expected a sparsity ratio N:M with 1 <= N <= M, got \"4:2\""},
      {"value after the ratio", sparse + "a, 8, 8, 3, 3, 1, 1, 1, 1:1, 2,\n",
       "2: field 10 (Sparsity): ", "expected the end of the row after the sparsity ratio, got \"2\""},
      {"bare number as a GEMM ratio", gemm + "g, 1, 5, 16, 1,\n",
       "2: field 5 (Sparsity): ", "expected a sparsity ratio N:M with 1 <= N <= M, got \"1\""},
      {"too many values", gemm + "g, 4, 4, 4,\nh, 4, 4, 4, 4, 4,\n",
       "3: ", "expected a GEMM row like line 2 (a layer name, M, N, K, then an optional N:M ratio), got 6 fields"},
      {"conv row in a GEMM file", gemm + "g, 4, 4, 4,\na, 8, 8, 3, 3, 1, 1, 1,\n",
       "3: ", "expected a GEMM row like line 2"},
      {"neither form", kConvHeader + "a, 8, 8, 3, 3, 1,\n", "2: ",
       "expected a conv row (a layer name and 7 or 8 integers) or a GEMM row (a layer name, M, N, K), each with "
       "an optional N:M sparsity ratio, got 6 fields"},
      {"non-integer", kConvHeader + "a, 8, 8, 3, 3, 1.5, 1, 1,\n",
       "2: field 6 (Channels): ", "expected an integer in [1, " + max + "], got \"1.5\""},
      {"template letter", gemm + "g, 12, N, 4,\n",
       "2: field 3 (N): ", "expected an integer in [1, " + max + "], got \"N\""},
      {"label row", kConvHeader + "a, 8, 8, 3, 3, 1, 1, 1,\n" + kConvHeader, "3: field 2 (IFMAP height): ",
       "got \"IFMAP Height\" (a label row: SCALE-Sim reads only line 1 as the header and stops on this one)"},
      {"zero", kConvHeader + "\na, 8, 8, 3, 3, 1, 0, 1,\n",
       "3: field 7 (Num filter): ", "expected an integer in [1, " + max + "], got \"0\""},
      {"negative", gemm + "g, -4, 2, 4,\n", "2: field 2 (M): ", "got \"-4\""},
      {"empty value", kConvHeader + "a, 8, , 3, 3, 1, 1, 1,\n", "2: field 3 (IFMAP width): ", "got \"\""},
      {"past int", gemm + "g, 2147483648, 2, 4,\n", "2: field 2 (M): ", "got \"2147483648\""},
      {"huge value", gemm + "g, 99999999999999999999, 2, 4,\n", "2: field 2 (M): ", "got \"99999999999999999999\""},
      {"double underscore", gemm + "g, 1__0, 2, 4,\n", "2: field 2 (M): ", "got \"1__0\""},
      {"zero-width space", gemm + "g, 12\u200b, 2, 4,\n", "2: field 2 (M): ", "got \"12\u200b\" (U+200B at column 6)"},
      {"non-breaking space inside", gemm + "g,\u00a01\u00a0024, 2, 4,\n",
       "2: field 2 (M): ", "got \"1\u00a0024\" (U+00A0 at column 5)"},
      {"fullwidth digit", gemm + "g, \uff11, 2, 4,\n", "2: field 2 (M): ", "(U+FF11 at column 4)"},
      {"tab-separated", kConvHeader + "Conv1_1\t572\t572\t3\t3\t1\t64\t1\t\n",
       "2: ", "expected comma-separated fields, got a tab-separated line (SCALE-Sim splits rows at commas only"},
      {"no commas", kConvHeader + "just\u00a0text\n", "2: ",
       "expected comma-separated fields (a layer name, then 7 or 8 integers for a conv row or 3 for a GEMM row), "
       "got \"just\u00a0text\" (U+00A0 at column 5)"},
      {"filter taller than ifmap", kConvHeader + "a, 8, 8, 3, 3, 1, 1, 1,\nb, 7, 20, 11, 11, 3, 96, 4,\n",
       "3: field 4 (Filter height): ", "expected at most the IFMAP height 7, got 11"},
      {"filter wider than ifmap", kConvHeader + "a, 8, 4, 3, 5, 1, 1, 1,\n",
       "2: field 5 (Filter width): ", "expected at most the IFMAP width 4, got 5"},
      {"too many weights", gemm + "g, 4, 2147483647, 2147483647,\n",
       "2: layer \"g\": ", "expected a weight count of at most 2^48, got more"},
      {"too many MACs", gemm + "g, 2147483647, 65536, 4096,\n",
       "2: layer \"g\": ", "expected a MAC count of at most 2^48, got more"},
      {"too large an input", kConvHeader + "a, 2147483647, 2147483647, 1, 1, 1, 1, 1,\n",
       "2: layer \"a\": ", "expected an input element count of at most 2^48, got more"},
      {"depthwise too wide", kConvHeader + "DP1, 8, 8, 3, 3, 2147483647, 2147483647, 1,\n",
       "2: layer \"DP1\": ", "expected Channels x Num filter of at most 2^48, got more"},
  };
  for (const auto& c : cases) {
    const std::string message = error_of(c.text);
    EXPECT_CONTAINS(message, file() + ":" + c.location) << c.what;
    EXPECT_CONTAINS(message, c.expected) << c.what;
    EXPECT_EQ(message.find('\n'), std::string::npos) << c.what;
  }
}

TEST_F(ScalesimFiles, FileMacsStayInsideInt64) {
  // 2^48 MACs per row is allowed (a GEMM 2^16 x 2^16 x 2^16); 2^14 + 1 such rows pass 2^62.
  std::string text = "Layer,M,N,K\n";
  for (int i = 0; i <= (1 << 14); ++i) text += "g,65536,65536,65536,\n";
  const std::string message = error_of(text);
  EXPECT_CONTAINS(message, file() + ":" + std::to_string((1 << 14) + 2) + ": expected a file of at most 2^62 MACs");
}

TEST_F(ScalesimFiles, EmptyHeaderOnlyAndMissingFiles) {
  EXPECT_EQ(error_of(""), file() + ": expected a header line and layer rows, got an empty file");
  const std::string none = file() + ": expected layer rows after the header (line 1, which SCALE-Sim skips), got none";
  EXPECT_EQ(error_of("\n  \n"), none);
  EXPECT_EQ(error_of(kConvHeader + "\n,,,,\n"), none);
  const std::string absent = (dir_ / "absent.csv").string();
  try {
    load_scalesim_csv(absent, 1);
    ADD_FAILURE() << "no InputError";
  } catch (const InputError& error) {
    EXPECT_EQ(std::string(error.what()), absent + ": cannot open");
  }
}

// tests/data/scalesim/shapes.tsv: one small file per shape of SCALE-Sim's
// shipped topologies, with what npusim must do with it (expected values worked
// by hand from SCALE-Sim's rules, see the file's header).
TEST(ScalesimShapes, EveryShapeRunsOrIsRefusedAsListed) {
  const fs::path dir = fs::path(NPUSIM_SOURCE_DIR) / "tests/data/scalesim";
  std::ifstream manifest(dir / "shapes.tsv");
  ASSERT_TRUE(manifest) << dir;
  std::set<std::string> listed;
  for (std::string line; std::getline(manifest, line);) {
    if (line.empty() || line[0] == '#') continue;
    const std::string name = line.substr(0, line.find('\t'));
    const std::string rest = line.substr(name.size() + 1);
    const std::string verdict = rest.substr(0, rest.find('\t'));
    listed.insert(name);
    const std::string path = (dir / name).string();
    std::istringstream words(verdict);
    std::string kind;
    words >> kind;
    if (kind == "runs") {
      std::size_t rows = 0;
      std::int64_t macs = 0;
      words >> rows >> macs;
      try {
        const auto graphs = load_scalesim_csv(path, 1);
        EXPECT_EQ(graphs.size(), rows) << name;
        EXPECT_EQ(total_macs(graphs), macs) << name;
      } catch (const InputError& error) {
        ADD_FAILURE() << name << ": " << error.what();
      }
    } else {
      ASSERT_EQ(kind, "refused") << line;
      std::string at, text;
      words >> at;
      std::getline(words >> std::ws, text);
      try {
        load_scalesim_csv(path, 1);
        ADD_FAILURE() << name << ": no InputError";
      } catch (const InputError& error) {
        EXPECT_CONTAINS(std::string(error.what()), path + ":" + at + ": ") << name;
        EXPECT_CONTAINS(std::string(error.what()), text) << name;
      }
    }
  }
  EXPECT_GE(listed.size(), 25u);
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".csv") {
      EXPECT_TRUE(listed.count(entry.path().filename().string())) << entry.path();
    }
  }
}

}  // namespace
}  // namespace npusim
