// models/zoo/squeezenet1_1.json (fire modules: concat; softmax output)
// against torchvision's published MAC and parameter counts.
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "graph_test_support.h"
#include "models/network_json.h"

namespace npusim {
namespace {

using npusim::testing::find_layer;
using npusim::testing::macs_by_layer;
using Dims = std::vector<std::int64_t>;

const std::string kZoo = std::string(NPUSIM_SOURCE_DIR) + "/models/zoo/";

// MACs of a fire module at h x h: squeeze 1x1 (in -> s), expand 1x1 and 3x3 (s -> e each).
std::int64_t fire_macs(std::int64_t h, std::int64_t in, std::int64_t s, std::int64_t e) {
  return h * h * s * in + h * h * e * s + h * h * e * s * 9;
}

TEST(ModelZoo, SqueezeNet11MatchesTorchvision) {
  const Graph graph = load_network_json(kZoo + "squeezenet1_1.json");
  // torchvision SqueezeNet1_1_Weights.IMAGENET1K_V1 meta: "_ops": 0.349 (GMAC),
  // "num_params": 1235496.
  EXPECT_NEAR(static_cast<double>(graph.total_macs()), 0.349e9, 0.02 * 0.349e9);
  const std::int64_t hand = 111 * 111 * 64 * 3 * 9 + fire_macs(55, 64, 16, 64) + fire_macs(55, 128, 16, 64) +
                            fire_macs(27, 128, 32, 128) + fire_macs(27, 256, 32, 128) + fire_macs(13, 256, 48, 192) +
                            fire_macs(13, 384, 48, 192) + fire_macs(13, 384, 64, 256) + fire_macs(13, 512, 64, 256) +
                            13 * 13 * 1000 * 512;
  EXPECT_EQ(graph.total_macs(), hand);
  EXPECT_EQ(graph.total_macs(), 349151936);
  std::int64_t params = 0;
  int concats = 0;
  for (const Layer& layer : graph.layers) {
    params += static_cast<std::int64_t>(layer.weights.size() + layer.bias.size());
    concats += layer.type == LayerType::concat;
  }
  EXPECT_EQ(params, 1235496);
  EXPECT_EQ(concats, 8);
  // 111 -> 55 -> 27 -> 13: each 3x3 stride-2 maxpool divides exactly, so
  // torchvision's ceil_mode changes nothing.
  EXPECT_EQ(find_layer(graph, "conv1").output_dims, (Dims{64, 111, 111}));
  EXPECT_EQ(find_layer(graph, "fire3.concat").output_dims, (Dims{128, 55, 55}));
  EXPECT_EQ(find_layer(graph, "pool5").output_dims, (Dims{256, 13, 13}));
  EXPECT_EQ(find_layer(graph, "fire9.concat").output_dims, (Dims{512, 13, 13}));
  EXPECT_EQ(graph.layers.back().type, LayerType::softmax);
  EXPECT_EQ(graph.layers.back().output_dims, (Dims{1000, 1, 1}));
  EXPECT_EQ(macs_by_layer(graph).at("fire9.concat"), 0);
}

}  // namespace
}  // namespace npusim
