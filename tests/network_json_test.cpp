#include "models/network_json.h"

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include "graph_test_support.h"

#include "models/input_error.h"
#include "models/seeded_random.h"

namespace npusim {
namespace {

using npusim::testing::find_layer;
using npusim::testing::macs_by_layer;

namespace fs = std::filesystem;
using Dims = std::vector<std::int64_t>;

#define EXPECT_CONTAINS(text, part) EXPECT_PRED_FORMAT2(::testing::IsSubstring, part, text)

const std::string kZoo = std::string(NPUSIM_SOURCE_DIR) + "/models/zoo/";

TEST(NetworkZoo, Lenet5ShapesAndMacs) {
  const Graph graph = load_network_json(kZoo + "lenet5.json");
  EXPECT_EQ(graph.name, "lenet5");
  EXPECT_EQ(graph.seed, 7u);
  EXPECT_EQ(graph.input_dims, (Dims{1, 32, 32}));
  const std::map<std::string, Dims> expected_dims{
      {"conv1", {6, 28, 28}}, {"pool1", {6, 14, 14}}, {"conv2", {16, 10, 10}}, {"pool2", {16, 5, 5}},
      {"fc1", {120, 1, 1}},   {"fc2", {84, 1, 1}},    {"fc3", {10, 1, 1}}};
  ASSERT_EQ(graph.layers.size(), expected_dims.size());
  for (const auto& [name, dims] : expected_dims) EXPECT_EQ(find_layer(graph, name).output_dims, dims) << name;
  // Hand-computed: OH*OW*N*C*R*S for convs, N*K for fc.
  const auto macs = macs_by_layer(graph);
  EXPECT_EQ(macs.at("conv1"), 28 * 28 * 6 * 1 * 5 * 5);   // 117600
  EXPECT_EQ(macs.at("conv2"), 10 * 10 * 16 * 6 * 5 * 5);  // 240000
  EXPECT_EQ(macs.at("fc1"), 400 * 120);
  EXPECT_EQ(macs.at("fc2"), 120 * 84);
  EXPECT_EQ(macs.at("fc3"), 84 * 10);
  EXPECT_EQ(macs.at("pool1"), 0);
  EXPECT_EQ(graph.total_macs(), 416520);
  EXPECT_EQ(find_layer(graph, "fc3").activation, Activation::none);
  EXPECT_EQ(find_layer(graph, "fc1").activation, Activation::relu);
}

TEST(NetworkZoo, Resnet18MatchesThePublishedMacCount) {
  const Graph graph = load_network_json(kZoo + "resnet18.json");
  EXPECT_NEAR(static_cast<double>(graph.total_macs()), 1.814e9, 0.01 * 1.814e9);
  EXPECT_EQ(find_layer(graph, "conv1").output_dims, (Dims{64, 112, 112}));
  EXPECT_EQ(find_layer(graph, "pool1").output_dims, (Dims{64, 56, 56}));
  EXPECT_EQ(find_layer(graph, "layer2.0.downsample").output_dims, (Dims{128, 28, 28}));
  EXPECT_EQ(find_layer(graph, "layer4.1.add").output_dims, (Dims{512, 7, 7}));
  EXPECT_EQ(find_layer(graph, "avgpool").output_dims, (Dims{512, 1, 1}));
  EXPECT_EQ(graph.layers.back().output_dims, (Dims{1000, 1, 1}));
  int adds = 0, downsamples = 0;
  for (const auto& layer : graph.layers) {
    adds += layer.type == LayerType::add;
    downsamples += layer.name.find("downsample") != std::string::npos;
  }
  EXPECT_EQ(adds, 8);
  EXPECT_EQ(downsamples, 3);
}

TEST(NetworkZoo, MobilenetV1MacCount) {
  const Graph graph = load_network_json(kZoo + "mobilenet_v1.json");
  EXPECT_NEAR(static_cast<double>(graph.total_macs()), 569e6, 0.01 * 569e6);
  EXPECT_EQ(find_layer(graph, "block13.pw").output_dims, (Dims{1024, 7, 7}));
}

TEST(NetworkZoo, TinyMixedCoversEveryLayerTypeAndWindowFeature) {
  const Graph graph = load_network_json(kZoo + "tiny_mixed.json");
  std::map<LayerType, int> types;
  for (const auto& layer : graph.layers) ++types[layer.type];
  EXPECT_EQ(types.size(), 7u);
  const Layer& grouped = find_layer(graph, "grouped");
  EXPECT_EQ(grouped.conv.groups, 2);
  EXPECT_EQ(grouped.conv.dilation_h, 2);
  EXPECT_EQ(grouped.output_dims, (Dims{8, 16, 16}));
  EXPECT_EQ(grouped.activation, Activation::relu6);
  const Layer& depthwise = find_layer(graph, "depthwise");
  EXPECT_EQ(depthwise.conv.groups, 8);
  EXPECT_EQ(depthwise.conv.pad_top, 0);
  EXPECT_EQ(depthwise.conv.pad_left, 0);
  EXPECT_EQ(depthwise.conv.pad_bottom, 1);
  EXPECT_EQ(depthwise.conv.pad_right, 1);
  EXPECT_EQ(depthwise.output_dims, (Dims{8, 8, 8}));  // (16 + 1 - 3) / 2 + 1
  EXPECT_FALSE(find_layer(graph, "pointwise").has_bias);
  EXPECT_TRUE(find_layer(graph, "pointwise").bias.empty());
  EXPECT_EQ(find_layer(graph, "smooth").output_dims, (Dims{8, 4, 4}));
  EXPECT_EQ(find_layer(graph, "tall").output_dims, (Dims{16, 4, 4}));
  EXPECT_TRUE(find_layer(graph, "gap").pool.global);
  EXPECT_EQ(find_layer(graph, "gap").output_dims, (Dims{16, 1, 1}));
  const auto macs = macs_by_layer(graph);
  EXPECT_EQ(macs.at("grouped"), 16 * 16 * 8 * 4 * 9);
  EXPECT_EQ(macs.at("depthwise"), 8 * 8 * 8 * 1 * 9);
  EXPECT_EQ(macs.at("tall"), 4 * 4 * 16 * 8 * 3);
  EXPECT_EQ(macs.at("classifier"), 16 * 10);
}

TEST(SeededRandom, MatchesTheSplitMix64Reference) {
  // First outputs of SplitMix64 seeded with 0 (Vigna's reference splitmix64.c).
  SeededRandom random(0);
  EXPECT_EQ(random.next_u64(), 0xE220A8397B1DCDAFULL);
  EXPECT_EQ(random.next_u64(), 0x6E789E6AA1B965F4ULL);
  EXPECT_NE(stream_seed(1, 0), stream_seed(1, 1));
  EXPECT_NE(stream_seed(1, 0), stream_seed(2, 0));
}

TEST(NetworkWeights, HeUniformBoundsAndDeterminism) {
  const Graph a = load_network_json(kZoo + "lenet5.json");
  const Graph b = load_network_json(kZoo + "lenet5.json");
  for (std::size_t i = 0; i < a.layers.size(); ++i) {
    const Layer& layer = a.layers[i];
    ASSERT_EQ(layer.weights.size(), b.layers[i].weights.size());
    EXPECT_EQ(layer.weights, b.layers[i].weights);
    EXPECT_EQ(layer.bias, b.layers[i].bias);
  }
  const Layer& conv2 = find_layer(a, "conv2");
  ASSERT_EQ(conv2.weights.size(), 16u * 6 * 5 * 5);
  ASSERT_EQ(conv2.bias.size(), 16u);
  const double bound = std::sqrt(6.0 / (6 * 5 * 5));
  double max_abs = 0.0, sum = 0.0;
  for (const float w : conv2.weights) {
    max_abs = std::max(max_abs, std::fabs(double{w}));
    sum += w;
  }
  EXPECT_LE(max_abs, bound);
  EXPECT_GT(max_abs, 0.95 * bound);  // 2400 uniform draws reach the edge
  EXPECT_LT(std::fabs(sum / conv2.weights.size()), 0.05 * bound);
  for (const float bias : conv2.bias) EXPECT_LE(std::fabs(bias), 0.1f);
  EXPECT_EQ(find_layer(a, "fc1").weights.size(), 120u * 400);
  EXPECT_TRUE(find_layer(a, "pool1").weights.empty());
}

class NetworkFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("npusim_net_" + std::string(info->name()) + "_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& text, const std::string& name = "net.json") {
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }

  // A small valid network: conv, pool, conv, add, relu6, global avgpool, fc.
  static nlohmann::json base() {
    return nlohmann::json::parse(R"({
      "format_version": 1, "name": "small", "seed": 5,
      "input": {"name": "input", "shape": [3, 8, 8]},
      "layers": [
        {"name": "c1", "type": "conv2d", "input": "input", "filters": 6, "kernel": [3, 3],
         "padding": [1, 1], "activation": "relu"},
        {"name": "p1", "type": "maxpool", "input": "c1", "kernel": [2, 2], "stride": [2, 2]},
        {"name": "c2", "type": "conv2d", "input": "p1", "filters": 6, "kernel": [3, 3], "padding": [1, 1]},
        {"name": "sum", "type": "add", "inputs": ["c2", "p1"], "activation": "relu"},
        {"name": "clip", "type": "relu6", "input": "sum"},
        {"name": "gap", "type": "avgpool", "input": "clip", "global": true},
        {"name": "fc", "type": "fc", "input": "gap", "units": 4}
      ]})");
  }

  // The message of the InputError loading `document` throws.
  std::string error_of(const nlohmann::json& document) {
    const std::string path = write(document.dump(2));
    try {
      load_network_json(path);
    } catch (const InputError& error) {
      return error.what();
    }
    ADD_FAILURE() << "no InputError for " << document.dump();
    return "";
  }

  fs::path dir_;
};

TEST_F(NetworkFiles, BaseDocumentLoads) {
  const Graph graph = load_network_json(write(base().dump()));
  EXPECT_EQ(graph.layers.size(), 7u);
  EXPECT_EQ(find_layer(graph, "sum").output_dims, (Dims{6, 4, 4}));
  EXPECT_EQ(find_layer(graph, "sum").inputs, (std::vector<std::string>{"c2", "p1"}));
  EXPECT_EQ(find_layer(graph, "c2").conv.stride_h, 1);  // defaults
  EXPECT_EQ(find_layer(graph, "c2").conv.dilation_w, 1);
  EXPECT_EQ(find_layer(graph, "c2").conv.groups, 1);
  EXPECT_TRUE(find_layer(graph, "c2").has_bias);
  EXPECT_EQ(find_layer(graph, "c2").activation, Activation::none);
}

TEST_F(NetworkFiles, SeedChangesWeightsAndLayersAreIndependentStreams) {
  const Graph original = load_network_json(write(base().dump(), "a.json"));
  auto reseeded = base();
  reseeded["seed"] = 6;
  EXPECT_NE(load_network_json(write(reseeded.dump(), "b.json")).layers[0].weights, original.layers[0].weights);
  // Each layer draws from its own stream: resizing c1's kernel (not its
  // output shape) leaves c2's weights untouched.
  auto edited = base();
  edited["layers"][0]["kernel"] = {5, 5};
  edited["layers"][0]["padding"] = {2, 2};
  const Graph changed = load_network_json(write(edited.dump(), "c.json"));
  EXPECT_NE(changed.layers[0].weights.size(), original.layers[0].weights.size());
  EXPECT_EQ(changed.layers[2].weights, original.layers[2].weights);
}

struct BadCase {
  const char* what;
  std::function<void(nlohmann::json&)> edit;
  std::string path;      // JSON path the message must name
  std::string expected;  // and this part of it
};

TEST_F(NetworkFiles, EveryKindOfBadInputNamesFileAndPath) {
  using J = nlohmann::json;
  const std::vector<BadCase> cases = {
      {"unknown top-level field", [](J& d) { d["extra"] = 1; }, "$.extra",
       "unknown field (expected one of: format_version, input, layers, name, seed)"},
      {"unknown layer field", [](J& d) { d["layers"][0]["filter"] = 6; }, "$.layers[0].filter",
       "unknown field (expected one of: activation, bias, dilation, filters, groups, input, kernel, "
       "name, padding, stride, type)"},
      {"wrong format version", [](J& d) { d["format_version"] = 2; }, "$.format_version",
       "expected 1 (the only network format this npusim reads), got 2"},
      {"missing name", [](J& d) { d.erase("name"); }, "$.name", "expected a string, got nothing"},
      {"string filters", [](J& d) { d["layers"][0]["filters"] = "6"; }, "$.layers[0].filters",
       "expected an integer in [1, 65536], got \"6\""},
      {"zero filters", [](J& d) { d["layers"][0]["filters"] = 0; }, "$.layers[0].filters",
       "expected an integer in [1, 65536], got 0"},
      {"float units", [](J& d) { d["layers"][6]["units"] = 4.5; }, "$.layers[6].units",
       "expected an integer in [1, 65536], got 4.5"},
      {"negative kernel",
       [](J& d) {
         d["layers"][0]["kernel"] = {-1, 3};
       },
       "$.layers[0].kernel", "expected a list of 2 integers in [1, 1024], got [-1,3]"},
      {"zero stride",
       [](J& d) {
         d["layers"][0]["stride"] = {0, 1};
       },
       "$.layers[0].stride", "expected a list of 2 integers in [1, 1024], got [0,1]"},
      {"three paddings",
       [](J& d) {
         d["layers"][0]["padding"] = {1, 1, 1};
       },
       "$.layers[0].padding",
       "expected a list of 2 ([vertical, horizontal]) or 4 ([top, left, bottom, right]) integers"},
      {"unknown type", [](J& d) { d["layers"][2]["type"] = "conv3d"; }, "$.layers[2].type",
       "expected one of conv2d, fc, maxpool, avgpool, add, relu, relu6, concat, softmax, flatten, reshape, clip, "
       "constant, got \"conv3d\""},
      {"unknown activation", [](J& d) { d["layers"][0]["activation"] = "tanh"; }, "$.layers[0].activation",
       "expected one of none, relu, relu6, got \"tanh\""},
      {"bias not boolean", [](J& d) { d["layers"][6]["bias"] = "yes"; }, "$.layers[6].bias",
       "expected true or false, got \"yes\""},
      {"unknown input", [](J& d) { d["layers"][1]["input"] = "nope"; }, "$.layers[1].input",
       "expected the graph input (\"input\") or an earlier layer, got \"nope\""},
      {"later input", [](J& d) { d["layers"][1]["input"] = "c2"; }, "$.layers[1].input",
       "got \"c2\" (defined later, at $.layers[2])"},
      {"own output as input", [](J& d) { d["layers"][1]["input"] = "p1"; }, "$.layers[1].input",
       "got \"p1\" (the layer itself)"},
      {"later add input", [](J& d) { d["layers"][3]["inputs"][1] = "clip"; }, "$.layers[3].inputs[1]",
       "got \"clip\" (defined later, at $.layers[4])"},
      {"add with one input", [](J& d) { d["layers"][3]["inputs"] = {"c2"}; }, "$.layers[3].inputs",
       "expected a list of 2 tensor names, got [\"c2\"]"},
      {"add shapes differ",
       [](J& d) {
         d["layers"][3]["inputs"] = {"c2", "c1"};
       },
       "$.layers[3].inputs", "expected two tensors of the same shape (\"c2\" is [6, 4, 4], \"c1\" is [6, 8, 8])"},
      {"duplicate layer name", [](J& d) { d["layers"][2]["name"] = "c1"; }, "$.layers[2].name",
       "expected a name no earlier layer uses ($.layers[0] is \"c1\")"},
      {"layer named like the input", [](J& d) { d["layers"][0]["name"] = "input"; }, "$.layers[0].name",
       "expected a name other than the graph input's (\"input\")"},
      {"channels not divisible by groups", [](J& d) { d["layers"][0]["groups"] = 2; }, "$.layers[0].groups",
       "expected a divisor of the input channels (3) and of filters (6), got 2"},
      {"filters not divisible by groups",
       [](J& d) {
         d["layers"][2]["groups"] = 3;
         d["layers"][2]["filters"] = 4;
       },
       "$.layers[2].groups", "expected a divisor of the input channels (6) and of filters (4), got 3"},
      {"kernel larger than padded input",
       [](J& d) {
         d["layers"][0]["kernel"] = {11, 3};
       },
       "$.layers[0].kernel",
       "expected a kernel whose dilated extent (11 x 3) fits the padded input (10 x 10), got [11,3]"},
      {"dilated kernel too large",
       [](J& d) {
         d["layers"][2]["dilation"] = {3, 3};
       },
       "$.layers[2].kernel", "dilated extent (7 x 7) fits the padded input (6 x 6)"},
      {"pool padding not below kernel",
       [](J& d) {
         d["layers"][1]["padding"] = {0, 0, 2, 0};
       },
       "$.layers[1].padding", "expected padding smaller than the kernel (2 x 2) on every side, got [0,0,2,0]"},
      {"pool without stride", [](J& d) { d["layers"][1].erase("stride"); }, "$.layers[1].stride",
       "expected a list of 2 integers in [1, 1024], got nothing"},
      {"global pool with a kernel",
       [](J& d) {
         d["layers"][5]["kernel"] = {2, 2};
       },
       "$.layers[5].kernel", "unknown field (expected one of: global, input, name, type)"},
      {"input shape of two",
       [](J& d) {
         d["input"]["shape"] = {8, 8};
       },
       "$.input.shape", "expected a list of 3 integers in [1, 65536], got [8,8]"},
      {"layer not an object", [](J& d) { d["layers"][4] = 5; }, "$.layers[4]", "expected an object, got 5"},
      {"no layers", [](J& d) { d["layers"] = J::array(); }, "$.layers", "expected a non-empty list of layers"},
      {"relu with activation", [](J& d) { d["layers"][4]["activation"] = "relu"; }, "$.layers[4].activation",
       "unknown field (expected one of: input, name, type)"},
  };
  for (const auto& c : cases) {
    J document = base();
    c.edit(document);
    const std::string message = error_of(document);
    const std::string file = (dir_ / "net.json").string();
    EXPECT_CONTAINS(message, file + ": " + c.path + ": ") << c.what;
    EXPECT_CONTAINS(message, c.expected) << c.what;
  }
}

TEST_F(NetworkFiles, SyntaxErrorAndMissingFile) {
  const std::string path = write("{\"format_version\": 1,\n \"name\": }");
  try {
    load_network_json(path);
    ADD_FAILURE() << "no InputError";
  } catch (const InputError& error) {
    EXPECT_EQ(std::string(error.what()).substr(0, path.size() + 5), path + ":2:10");
  }
  const std::string absent = (dir_ / "absent.json").string();
  try {
    load_network_json(absent);
    ADD_FAILURE() << "no InputError";
  } catch (const InputError& error) {
    EXPECT_EQ(std::string(error.what()), absent + ": cannot open");
  }
}

}  // namespace
}  // namespace npusim
