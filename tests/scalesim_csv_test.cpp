#include "models/scalesim_csv.h"

#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
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
    dir_ = fs::temp_directory_path() /
           ("npusim_scalesim_" + std::string(info->name()) + "_" + std::to_string(getpid()));
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
  const auto graphs = load_scalesim_csv(write(kConvHeader +
                                              "a, 10, 17, 3, 5, 4, 6, 4,\n"
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

TEST_F(ScalesimFiles, AcceptsTheSpellingsScalesimUses) {
  // Header without spaces or trailing comma (GEMM_mnk/NCF.csv), with "Layer Name" (test_mnk_input.csv),
  // CRLF line ends and a spreadsheet's byte-order mark.
  const auto ncf = load_scalesim_csv(write("Layer,M,N,K\n1,256,128,2048\n10,128,1,2048\n", "ncf.csv"), 1);
  ASSERT_EQ(ncf.size(), 2u);
  EXPECT_EQ(ncf[0].name, "1");
  EXPECT_EQ(ncf[1].layers[0].output_dims, (Dims{1, 1, 128}));
  EXPECT_EQ(ncf[1].total_macs(), 128 * 1 * 2048);
  const auto spaced =
      load_scalesim_csv(write("\xEF\xBB\xBFLayer Name, M, N, K,\r\nTest 1, 256, 128, 256,\r\n", "mnk.csv"), 1);
  ASSERT_EQ(spaced.size(), 1u);
  EXPECT_EQ(spaced[0].name, "Test 1");
  EXPECT_EQ(spaced[0].total_macs(), 256 * 128 * 256);
  // SCALE-Sim's write_topo_file header: lower case, separate strides. Blank lines, tab
  // indents and "#dw" tags after the last comma appear in conv_nets/mobilnet_paper.csv.
  const auto written = load_scalesim_csv(write("Layer name,IFMAP height,IFMAP width,Filter height,Filter width,"
                                               "Channels,Num filter,Stride height,Stride width,\n"
                                               "\n"
                                               "\tConv2_dw, 112, 112, 3, 3, 1, 1, 2, 1,#dw\n"
                                               "   \n"
                                               "Conv3,112,112,1,1,32,64,1,1\n",
                                               "written.csv"),
                                         1);
  ASSERT_EQ(written.size(), 2u);
  EXPECT_EQ(written[0].name, "Conv2_dw");
  EXPECT_EQ(written[0].layers[0].conv.stride_h, 2);
  EXPECT_EQ(written[0].layers[0].conv.stride_w, 1);
  EXPECT_EQ(written[0].layers[0].output_dims, (Dims{1, 56, 110}));  // ceil((112 - 3 + 2) / 2)
  EXPECT_EQ(written[0].layers[0].conv.pad_bottom, 1);
  EXPECT_EQ(written[1].layers[0].output_dims, (Dims{64, 112, 112}));
}

TEST_F(ScalesimFiles, DepthwiseRowsAreGroupedConvolutions) {
  // SCALE-Sim splits a row whose name contains "DP" into C one-channel layers of N filters.
  const auto graphs = load_scalesim_csv(write(kConvHeader +
                                              "DP1, 10, 10, 3, 3, 8, 1, 1,\n"
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
  const auto graphs = load_scalesim_csv(write(kConvHeader +
                                              "first, 6, 6, 3, 3, 2, 4, 1,\n"
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
  const auto graphs = load_scalesim_csv(write(kConvHeader.substr(0, kConvHeader.size() - 1) + " Sparsity,\n"
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

TEST_F(ScalesimFiles, BadInputNamesFileLineAndColumn) {
  const std::string gemm = "Layer, M, N, K,\n";
  const std::vector<BadCsv> cases = {
      {"misspelled conv header",
       "Layer name, IFMAP Height, IFMAP Widht, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
       "a, 8, 8, 3, 3, 1, 1, 1,\n",
       "1: column 3: ", "expected \"IFMAP Width\" (SCALE-Sim conv header), got \"IFMAP Widht\""},
      {"unknown header", "name, height, width\na, 1, 1\n", "1: ",
       "expected the SCALE-Sim conv header \"Layer name, IFMAP Height"},
      {"short conv header", "Layer name, IFMAP Height, IFMAP Width, Filter Height\n", "1: column 5: ",
       "expected \"Filter Width\" (SCALE-Sim conv header), got nothing"},
      {"column after sparsity", "Layer Name, M, N, K, Sparsity, Extra,\nGEMM_1, 3, 5, 16, 1:1,\n",
       "1: column 6: ", "expected the end of the header (or a last \"Sparsity\" column), got \"Extra\""},
      {"sparse row", "Layer Name, M, N, K, Sparsity,\nGEMM_1, 3, 5, 16, 1:1,\nGEMM_2, 3, 5, 16, 3:4,\n",
       "3: column 5 (Sparsity): ",
       "expected a dense ratio (N:N, such as 1:1), got \"3:4\" (npusim does not model SCALE-Sim's structured"},
      {"bad ratio", kConvHeader.substr(0, kConvHeader.size() - 1) + " Sparsity,\na, 8, 8, 3, 3, 1, 1, 1, 4:2,\n",
       "2: column 9 (Sparsity): ", "expected a sparsity ratio N:M with 1 <= N <= M, got \"4:2\""},
      {"extra column after sparsity", "Layer, M, N, K, Sparsity\ng, 4, 4, 4, 1:1, 7\n", "2: column 6: ",
       "expected the end of the row (the header has 5 columns), got \"7\""},
      {"non-integer", kConvHeader + "a, 8, 8, 3, 3, 1.5, 1, 1,\n", "2: column 6 (Channels): ",
       "expected an integer in [1, 65536], got \"1.5\""},
      {"text", gemm + "g, 12, many, 4,\n", "2: column 3 (N): ", "expected an integer in [1, 65536], got \"many\""},
      {"zero", kConvHeader + "\na, 8, 8, 3, 3, 1, 0, 1,\n", "3: column 7 (Num Filter): ",
       "expected an integer in [1, 65536], got \"0\""},
      {"negative", gemm + "g, -4, 2, 4,\n", "2: column 2 (M): ", "expected an integer in [1, 65536], got \"-4\""},
      {"empty value", kConvHeader + "a, 8, , 3, 3, 1, 1, 1,\n", "2: column 3 (IFMAP Width): ",
       "expected an integer in [1, 65536], got \"\""},
      {"huge value", gemm + "g, 99999999999999999999, 2, 4,\n", "2: column 2 (M): ",
       "expected an integer in [1, 65536], got \"99999999999999999999\""},
      {"stride too large", kConvHeader + "a, 8, 8, 3, 3, 1, 1, 2000,\n", "2: column 8 (Strides): ",
       "expected an integer in [1, 1024], got \"2000\""},
      {"missing column", kConvHeader + "a, 8, 8, 3, 3, 1, 1,\n", "2: column 8 (Strides): ",
       "expected a value, got none (the header has 8 columns)"},
      {"missing gemm column", gemm + "g, 4, 4\n", "2: column 4 (K): ", "expected a value, got none"},
      {"extra column", gemm + "g, 4, 4, 4, 4,\n", "2: column 5: ",
       "expected the end of the row (the header has 4 columns), got \"4\""},
      {"empty name", kConvHeader + " , 8, 8, 3, 3, 1, 1, 1,\n", "2: column 1 (Layer name): ",
       "expected a layer name, got an empty field"},
      {"filter taller than ifmap", kConvHeader + "a, 8, 8, 3, 3, 1, 1, 1,\nb, 7, 20, 11, 11, 3, 96, 4,\n",
       "3: column 4 (Filter Height): ", "expected at most the IFMAP height 7, got 11"},
      {"filter wider than ifmap", kConvHeader + "a, 8, 4, 3, 5, 1, 1, 1,\n", "2: column 5 (Filter Width): ",
       "expected at most the IFMAP width 4, got 5"},
      {"too many weights", gemm + "g, 4, 65536, 65536,\n", "2: layer \"g\": ",
       "expected at most 2^28 weights, got 4294967296"},
      {"too large an input", kConvHeader + "a, 65536, 65536, 1, 1, 1, 1, 1,\n", "2: layer \"a\": ",
       "expected an input of at most 2^30 elements, got 4294967296"},
      {"depthwise too wide", kConvHeader + "DP1, 8, 8, 3, 3, 1024, 128, 1,\n", "2: column 7 (Num Filter): ",
       "expected Channels x Num Filter of this depthwise (\"DP\") row to be at most 65536, got 131072"},
  };
  for (const auto& c : cases) {
    const std::string message = error_of(c.text);
    EXPECT_CONTAINS(message, file() + ":" + c.location) << c.what;
    EXPECT_CONTAINS(message, c.expected) << c.what;
    EXPECT_EQ(message.find('\n'), std::string::npos) << c.what;
  }
}

TEST_F(ScalesimFiles, EmptyHeaderOnlyAndMissingFiles) {
  EXPECT_CONTAINS(error_of(""), file() + ": expected the SCALE-Sim conv header");
  EXPECT_CONTAINS(error_of("\n  \n"), "got an empty file");
  EXPECT_EQ(error_of(kConvHeader + "\n"),
            file() + ": expected at least one layer row after the header (line 1), got none");
  const std::string absent = (dir_ / "absent.csv").string();
  try {
    load_scalesim_csv(absent, 1);
    ADD_FAILURE() << "no InputError";
  } catch (const InputError& error) {
    EXPECT_EQ(std::string(error.what()), absent + ": cannot open");
  }
}

}  // namespace
}  // namespace npusim
