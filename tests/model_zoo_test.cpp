// The bundled networks (models/zoo/*.json) against published MAC and parameter
// counts, and the small ones against hand arithmetic. Provenance of each file
// is in models/zoo/README.md.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "graph_test_support.h"

#include "models/graph.h"
#include "models/network_json.h"

namespace npusim {
namespace {

using npusim::testing::find_layer;
using npusim::testing::macs_by_layer;

using Dims = std::vector<std::int64_t>;

const std::string kZoo = std::string(NPUSIM_SOURCE_DIR) + "/models/zoo/";

// The tolerance against a published figure: published counts are rounded and
// count slightly different things (e.g. some include the bias adds).
constexpr double kPublishedTolerance = 0.02;

void expect_near_published(const Graph& graph, double published_macs) {
  EXPECT_NEAR(static_cast<double>(graph.total_macs()), published_macs, kPublishedTolerance * published_macs)
      << graph.name;
}

// Weights and biases the loader generated: the network's parameter count.
std::int64_t parameters(const Graph& graph) {
  std::int64_t total = 0;
  for (const auto& layer : graph.layers) total += static_cast<std::int64_t>(layer.weights.size() + layer.bias.size());
  return total;
}

// Output channels of every conv2d. torchvision's parameter counts include two
// batch-norm parameters per conv output channel; the zoo folds batch norm into
// one conv bias per channel, so the two counts differ by exactly this.
std::int64_t conv_output_channels(const Graph& graph) {
  std::int64_t total = 0;
  for (const auto& layer : graph.layers) {
    if (layer.type == LayerType::conv2d) total += layer.conv.out_channels;
  }
  return total;
}

int count_type(const Graph& graph, LayerType type) {
  int n = 0;
  for (const auto& layer : graph.layers) n += layer.type == type;
  return n;
}

TEST(ModelZoo, Lenet5MatchesHandArithmetic) {
  const Graph graph = load_network_json(kZoo + "lenet5.json");
  // conv1 28*28*6*1*25 + conv2 10*10*16*6*25 + fc 400*120 + 120*84 + 84*10
  EXPECT_EQ(graph.total_macs(), 117600 + 240000 + 48000 + 10080 + 840);
}

TEST(ModelZoo, CifarVggSmallMatchesHandArithmetic) {
  // The 7-weight-layer VGG-Small of LQ-Nets / IR-Net.
  const Graph graph = load_network_json(kZoo + "cifar10_vgg_small.json");
  ASSERT_EQ(graph.input_dims, (Dims{3, 32, 32}));
  const auto macs = macs_by_layer(graph);
  EXPECT_EQ(macs.at("conv1"), 32 * 32 * 128 * 3 * 9);
  EXPECT_EQ(macs.at("conv2"), 32 * 32 * 128 * 128 * 9);
  EXPECT_EQ(macs.at("conv3"), 16 * 16 * 256 * 128 * 9);
  EXPECT_EQ(macs.at("conv4"), 16 * 16 * 256 * 256 * 9);
  EXPECT_EQ(macs.at("conv5"), 8 * 8 * 512 * 256 * 9);
  EXPECT_EQ(macs.at("conv6"), 8 * 8 * 512 * 512 * 9);
  EXPECT_EQ(macs.at("fc1"), 512 * 4 * 4 * 10);
  EXPECT_EQ(graph.total_macs(), 607600640);
  EXPECT_EQ(find_layer(graph, "pool3").output_dims, (Dims{512, 4, 4}));
  EXPECT_EQ(count_type(graph, LayerType::conv2d) + count_type(graph, LayerType::fc), 7);
  EXPECT_EQ(graph.layers.back().output_dims, (Dims{10, 1, 1}));
}

TEST(ModelZoo, CifarBinaryConnectMatchesHandArithmetic) {
  // BinaryConnect / BNN: 2x128C3-MP2-2x256C3-MP2-2x512C3-MP2-2x1024FC-10.
  const Graph graph = load_network_json(kZoo + "cifar10_binaryconnect.json");
  const auto macs = macs_by_layer(graph);
  const std::int64_t convs = 3538944 + 150994944 + 75497472 + 150994944 + 75497472 + 150994944;
  EXPECT_EQ(macs.at("conv6"), 150994944);
  EXPECT_EQ(macs.at("fc1"), 8192 * 1024);
  EXPECT_EQ(macs.at("fc2"), 1024 * 1024);
  EXPECT_EQ(macs.at("fc3"), 1024 * 10);
  EXPECT_EQ(graph.total_macs(), convs + 8192 * 1024 + 1024 * 1024 + 1024 * 10);  // 616966144
  EXPECT_EQ(count_type(graph, LayerType::conv2d) + count_type(graph, LayerType::fc), 9);
}

TEST(ModelZoo, AlexNetMatchesTorchvision) {
  const Graph graph = load_network_json(kZoo + "alexnet.json");
  expect_near_published(graph, 0.714e9);   // torchvision AlexNet_Weights.IMAGENET1K_V1 meta "_ops": 0.714 (GMAC)
  EXPECT_EQ(parameters(graph), 61100840);  // torchvision meta "num_params"
  EXPECT_EQ(find_layer(graph, "conv1").output_dims, (Dims{64, 55, 55}));
  EXPECT_EQ(find_layer(graph, "pool5").output_dims, (Dims{256, 6, 6}));
}

TEST(ModelZoo, Vgg16MatchesTorchvision) {
  const Graph graph = load_network_json(kZoo + "vgg16.json");
  expect_near_published(graph, 15.47e9);    // torchvision VGG16_Weights.IMAGENET1K_V1 "_ops": 15.47
  EXPECT_EQ(parameters(graph), 138357544);  // torchvision meta "num_params"
  EXPECT_EQ(count_type(graph, LayerType::conv2d), 13);
  EXPECT_EQ(find_layer(graph, "pool5").output_dims, (Dims{512, 7, 7}));
}

TEST(ModelZoo, Resnet50MatchesTorchvision) {
  const Graph graph = load_network_json(kZoo + "resnet50.json");
  expect_near_published(graph, 4.089e9);  // torchvision ResNet50_Weights.IMAGENET1K_V1 "_ops": 4.089
  EXPECT_EQ(parameters(graph) + conv_output_channels(graph), 25557032);  // "num_params", batch norm folded
  EXPECT_EQ(count_type(graph, LayerType::add), 16);                      // 3 + 4 + 6 + 3 bottlenecks
  int downsamples = 0;
  for (const auto& layer : graph.layers) downsamples += layer.name.find("downsample") != std::string::npos;
  EXPECT_EQ(downsamples, 4);
  // v1.5: the stride sits on the 3x3 conv, the 1x1 reduce keeps the resolution.
  EXPECT_EQ(find_layer(graph, "layer2.0.conv1").output_dims, (Dims{128, 56, 56}));
  EXPECT_EQ(find_layer(graph, "layer2.0.conv2").output_dims, (Dims{128, 28, 28}));
  EXPECT_EQ(find_layer(graph, "layer1.0.downsample").output_dims, (Dims{256, 56, 56}));
  EXPECT_EQ(find_layer(graph, "layer4.2.add").output_dims, (Dims{2048, 7, 7}));
}

TEST(ModelZoo, MobilenetV1MatchesThePaper) {
  const Graph graph = load_network_json(kZoo + "mobilenet_v1.json");
  expect_near_published(graph, 569e6);  // Howard et al. 2017, Table 8: 1.0 MobileNet-224, 569 M mult-adds
}

TEST(ModelZoo, MobilenetV2MatchesThePaper) {
  const Graph graph = load_network_json(kZoo + "mobilenet_v2.json");
  expect_near_published(graph, 300e6);    // Sandler et al. 2018, Table 4: MobileNetV2 (1.0, 224), 300 M MAdds
  expect_near_published(graph, 0.301e9);  // torchvision MobileNet_V2_Weights.IMAGENET1K_V1 "_ops": 0.301
  EXPECT_EQ(parameters(graph) + conv_output_channels(graph), 3504872);  // torchvision "num_params"
  // Residual adds join stride-1 blocks whose input and output widths agree.
  EXPECT_EQ(count_type(graph, LayerType::add), 10);
  // Linear bottlenecks: the projection has no activation, the expansion relu6.
  EXPECT_EQ(find_layer(graph, "block3.project").activation, Activation::none);
  EXPECT_EQ(find_layer(graph, "block3.expand").activation, Activation::relu6);
  EXPECT_EQ(find_layer(graph, "block3.expand").output_dims, (Dims{144, 56, 56}));
  EXPECT_EQ(find_layer(graph, "block3.dw").conv.groups, 144);
  EXPECT_EQ(find_layer(graph, "block17.project").output_dims, (Dims{320, 7, 7}));
  EXPECT_EQ(find_layer(graph, "conv_last").output_dims, (Dims{1280, 7, 7}));
}

TEST(ModelZoo, TinyYoloV2MatchesDarknet) {
  const Graph graph = load_network_json(kZoo + "tiny_yolo_v2_voc.json");
  // Darknet prints 6.97 BFLOPs for yolov2-tiny-voc.cfg at 416x416, counting 2 FLOPs per MAC
  // (pjreddie.com/darknet/yolov2, "Tiny YOLO ... 6.97 Bn").
  expect_near_published(graph, 6.97e9 / 2);
  const auto macs = macs_by_layer(graph);
  EXPECT_EQ(macs.at("conv8"), 13 * 13 * 1024 * 1024 * 9);
  EXPECT_EQ(find_layer(graph, "pool6").output_dims, (Dims{512, 13, 13}));  // size 2, stride 1, keeps 13x13
  EXPECT_EQ(graph.layers.back().output_dims, (Dims{125, 13, 13}));         // 5 anchors x (20 classes + 5)
  // 15.86 M parameters (OpenVINO's tiny YOLO v2 VOC card: 15.8587 M).
  EXPECT_NEAR(static_cast<double>(parameters(graph)), 15.8587e6, 0.0001e6);
}

TEST(ModelZoo, BertBaseLayerIsItsWeightGemms) {
  const Graph graph = load_network_json(kZoo + "bert_base_layer_s128.json");
  ASSERT_EQ(graph.input_dims, (Dims{768, 1, 128}));
  constexpr std::int64_t kTokens = 128, kHidden = 768, kFfn = 3072;
  const auto macs = macs_by_layer(graph);
  for (const char* name : {"attn.q", "attn.k", "attn.v", "attn.out"}) {
    EXPECT_EQ(macs.at(name), kTokens * kHidden * kHidden) << name;
  }
  EXPECT_EQ(macs.at("ffn.up"), kTokens * kHidden * kFfn);
  EXPECT_EQ(macs.at("ffn.down"), kTokens * kFfn * kHidden);
  // 12 d^2 weights per layer (Devlin et al. 2019: d = 768, d_ff = 4d), one MAC each per token.
  EXPECT_EQ(graph.total_macs(), 12 * kHidden * kHidden * kTokens);  // 905969664
  EXPECT_EQ(find_layer(graph, "ffn.up").output_dims, (Dims{kFfn, 1, kTokens}));
  EXPECT_EQ(graph.layers.back().output_dims, (Dims{kHidden, 1, kTokens}));
  EXPECT_EQ(count_type(graph, LayerType::add), 2);
}

}  // namespace
}  // namespace npusim
