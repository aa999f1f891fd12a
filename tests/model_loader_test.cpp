// load_models(): one entry point for every model file, chosen by extension.
#include "models/model_loader.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "models/input_error.h"
#include "models/network_json.h"
#include "models/scalesim_csv.h"
#include "temp_dir_test_support.h"

namespace npusim {
namespace {

namespace fs = std::filesystem;
const std::string kZoo = std::string(NPUSIM_SOURCE_DIR) + "/models/zoo/";

std::string error_of(const std::string& path) {
  try {
    load_models(path);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ModelLoader, JsonIsOneNetworkWithoutItsOwnQuantization) {
  const auto models = load_models(kZoo + "lenet5.json");
  ASSERT_EQ(models.size(), 1u);
  const Graph expected = load_network_json(kZoo + "lenet5.json");
  EXPECT_EQ(models[0].graph.name, "lenet5");
  EXPECT_EQ(models[0].graph.layers.size(), expected.layers.size());
  EXPECT_EQ(models[0].graph.layers[0].weights, expected.layers[0].weights);
  EXPECT_FALSE(models[0].quantized);
}

TEST(ModelLoader, ScalesimCsvIsOneSingleLayerNetworkPerRowSeededLikeANetworkFile) {
  const auto models = load_models(kZoo + "scalesim/gemm.csv");
  ASSERT_EQ(models.size(), 6u);
  // The network format's default seed, 1.
  const auto direct = load_scalesim_csv(kZoo + "scalesim/gemm.csv", 1);
  std::int64_t macs = 0;
  for (std::size_t i = 0; i < models.size(); ++i) {
    ASSERT_EQ(models[i].graph.layers.size(), 1u);
    EXPECT_EQ(models[i].graph.layers[0].weights, direct[i].layers[0].weights) << i;
    EXPECT_FALSE(models[i].quantized);
    macs += models[i].graph.total_macs();
  }
  EXPECT_EQ(models[0].graph.layers[0].name, "attn.q");
  EXPECT_EQ(models[5].graph.layers[0].name, "ffn.down");
  // SCALE-Sim's sum of M * N * K over the rows.
  EXPECT_EQ(macs, 4 * 128 * 768 * 768 + 128 * 3072 * 768 + 128 * 768 * 3072);
}

class ModelLoaderFiles : public testing::TempDirTest {};

TEST_F(ModelLoaderFiles, ExtensionsAreCaseInsensitive) {
  const fs::path upper = dir_ / "GEMM.CSV";
  fs::copy_file(kZoo + "scalesim/gemm.csv", upper);
  EXPECT_EQ(load_models(upper.string()).size(), 6u);
}

TEST_F(ModelLoaderFiles, UnknownExtensionNamesTheFileAndTheKnownOnes) {
  const fs::path txt = dir_ / "net.txt";
  std::ofstream(txt) << "{}";
  const std::string message = error_of(txt.string());
  EXPECT_NE(message.find(txt.string()), std::string::npos) << message;
  EXPECT_NE(message.find("'.txt'"), std::string::npos) << message;
  for (const char* known : {".json", ".onnx", ".csv"}) EXPECT_NE(message.find(known), std::string::npos) << message;
  EXPECT_NE(error_of((dir_ / "no_extension").string()).find("unknown model file extension ''"), std::string::npos);
}

TEST_F(ModelLoaderFiles, CorruptOnnxFileIsAnInputErrorNamingIt) {
  const fs::path onnx = dir_ / "broken.onnx";
  std::ofstream(onnx, std::ios::binary) << "this is not a protobuf";
  const std::string message = error_of(onnx.string());
  EXPECT_NE(message.find(onnx.string()), std::string::npos) << message;
}

TEST_F(ModelLoaderFiles, CsvWithAHeaderButNoRowsIsAnError) {
  const fs::path csv = dir_ / "empty.csv";
  std::ofstream(csv) << "Layer, M, N, K,\n";
  const std::string message = error_of(csv.string());
  EXPECT_NE(message.find(csv.string()), std::string::npos) << message;
}

}  // namespace
}  // namespace npusim
