// A binary network keeps its first and last layers at W8A8 on the same PEs.
// Those layers must be timed with their own lanes (one 8-bit MAC per cycle on
// a 64-lane XNOR PE), in the memory plan as in the array: a bug once timed
// them with the config's 64 lanes, i.e. 64 int8 MACs per PE per cycle.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/cli_test_support.h"
#include "tests/temp_dir_test_support.h"

namespace npusim {
namespace {

using testing::kSourceDir;
using testing::run_npusim;

class MixedLanesCliTest : public testing::TempDirTest {
 protected:
  nlohmann::json layer(const std::string& config, const std::string& name, const std::string& tag) {
    const auto json_path = dir_ / (tag + ".json");
    const auto r = run_npusim("run --config " + kSourceDir + "/configs/" + config + " --model " + kSourceDir +
                              "/models/zoo/lenet5.json --json " + json_path.string());
    EXPECT_EQ(r.status, 0) << r.out;
    const auto report = nlohmann::json::parse(slurp(json_path));
    for (const auto& l : report.at("layers")) {
      if (l.at("name") == name) return l;
    }
    ADD_FAILURE() << "no layer " << name;
    return {};
  }
};

TEST_F(MixedLanesCliTest, EightBitEndLayersOfABinaryNetworkRunAtOneLaneLikeAnInt8Array) {
  // LeNet-5 fc3 (the last compute layer, kept at W8A8): GEMM 1 x 10 x 84 on
  // 32x32 WS. At 1 lane K = 84 takes ceil(84/32) = 3 row folds x 1 column
  // fold; at the binary config's 64 lanes it would be ceil(ceil(84/64)/32) = 1.
  const auto binary = layer("edge_binary_32x32.json", "fc3", "binary");
  const auto int8 = layer("edge_int8_32x32.json", "fc3", "int8");
  EXPECT_EQ(binary.at("format"), "W8A8");
  EXPECT_EQ(binary.at("folds"), 3);
  EXPECT_EQ(int8.at("folds"), 3);
  // Utilization is against the layer's own format: 840 MACs over
  // cycles x 1024 PEs x 1 lane, as on the int8 array.
  const double expected_pct = 100.0 * 840.0 / (binary.at("cycles").get<double>() * 1024.0);
  EXPECT_NEAR(binary.at("utilization_pct").get<double>(), expected_pct, 0.01);
}

}  // namespace
}  // namespace npusim
