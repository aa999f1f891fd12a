// `npusim accuracy` end to end on the bundled Fashion-MNIST model: its fp32
// top-1 on the modeled NPU against torch's predictions for the same images
// (recorded by scripts/train_fashion_mnist.py in the model's sidecar), the
// quantized formats' accuracy against fp32, the table and the outputs' columns.
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli_test_support.h"
#include "models/idx_reader.h"
#include "temp_dir_test_support.h"

namespace npusim {
namespace {

using testing::kSourceDir;
using testing::read_text;
using testing::run_npusim;

const std::string kDataset = "/usr/share/datasets/fashion-mnist/";
const std::string kModel = kSourceDir + "/models/zoo/fashion_mnist_cnn.onnx";
const std::string kSidecar = kSourceDir + "/models/zoo/fashion_mnist_cnn.preprocess.json";
const std::string kConfig = kSourceDir + "/configs/edge_int8_32x32.json";
constexpr int kImages = 500;

class AccuracyCliTest : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    if (!std::filesystem::exists(kDataset + "t10k-images-idx3-ubyte.gz"))
      GTEST_SKIP() << "dataset-fashion-mnist not installed";
  }
};

TEST_F(AccuracyCliTest, Fp32MatchesTorchImageByImageAndQuantizedFormatsStayClose) {
  const std::string json_path = (dir_ / "acc.json").string();
  const std::string csv_path = (dir_ / "acc.csv").string();
  const auto r =
      run_npusim("accuracy --config " + kConfig + " --model " + kModel + " --limit " + std::to_string(kImages) +
                 " --formats fp32,fp16,int8 --json " + json_path + " --csv " + csv_path);
  ASSERT_EQ(r.status, 0) << r.out;

  // torch's fp32 predictions for the first test images, from the training script.
  const auto sidecar = nlohmann::json::parse(read_text(kSidecar));
  const std::string torch_predictions =
      sidecar["torch_fp32_predictions_first_test_images"].get<std::string>().substr(0, kImages);
  ASSERT_EQ(torch_predictions.size(), static_cast<std::size_t>(kImages));
  const IdxArray labels = read_idx_labels(kDataset + "t10k-labels-idx1-ubyte.gz", 10, kImages);
  int torch_correct = 0;
  for (int i = 0; i < kImages; ++i) torch_correct += torch_predictions[i] - '0' == labels.data[i];

  const auto json = nlohmann::json::parse(read_text(json_path));
  EXPECT_EQ(json["schema"], "npusim.accuracy/1");
  EXPECT_EQ(json["test_images"]["count"], kImages);
  EXPECT_EQ(json["calibration"]["count"], 256);
  const auto& model = json["models"][0];
  EXPECT_EQ(model["macs"], 1031744);  // 16*784*9 + 32*196*144 + 1568*10
  // Both fp32 paths of npusim (reference executor, NPU datapath) give torch's top-1 on every image.
  EXPECT_EQ(model["fp32_reference_predictions"], torch_predictions);
  const auto& rows = model["rows"];
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0]["format"], "fp32");
  EXPECT_EQ(rows[0]["predictions"], torch_predictions);
  EXPECT_EQ(rows[0]["correct"], torch_correct);
  const int fp32 = rows[0]["correct"];
  const int fp16 = rows[1]["correct"];
  const int int8 = rows[2]["correct"];
  EXPECT_LE(std::abs(fp16 - fp32), 1) << "fp16 within 0.2 pp of fp32";
  EXPECT_LE(std::abs(int8 - fp32), kImages / 100) << "int8 within 1 pp of fp32";
  EXPECT_GT(fp32, kImages * 85 / 100);
  // Weights only: 144 + 4608 + 15680 of them at 4, 2 and 1 bytes.
  EXPECT_EQ(rows[0]["weight_bytes"], 20432 * 4);
  EXPECT_EQ(rows[1]["weight_bytes"], 20432 * 2);
  EXPECT_EQ(rows[2]["weight_bytes"], 20432);
  for (const auto& row : rows) {
    EXPECT_TRUE(row["bit_exact"].get<bool>()) << row["format"];
    EXPECT_EQ(row["macs"], 1031744);
    EXPECT_GT(row["energy_uj"].get<double>(), 0.0);
    EXPECT_GT(row["latency_us"].get<double>(), 0.0);
  }
  // Narrower formats lose signal: fp16 keeps far more of it than int8.
  EXPECT_GT(rows[1]["network_sqnr_db"].get<double>(), rows[2]["network_sqnr_db"].get<double>() + 10.0);

  // The table: header columns in order, one line per format.
  const auto at = r.out.find("\nmodel ");
  ASSERT_NE(at, std::string::npos) << r.out;
  const std::string line = r.out.substr(at + 1, r.out.find('\n', at + 1) - at - 1);
  std::size_t pos = 0;
  for (const char* title : {"model", "format", "mac", "top1_pct", "correct", "agree_fp32_pct", "sqnr_db",
                            "weight_bytes", "energy_uj", "latency_us", "check", "note"}) {
    const auto found = line.find(title, pos);
    ASSERT_NE(found, std::string::npos) << title << " in " << line;
    pos = found + 1;
  }
  EXPECT_NE(r.out.find("fashion_mnist_cnn: 1031744 MACs"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fashion_mnist_cnn  fp32    fp32/fp32"), std::string::npos) << r.out;

  const std::string csv = read_text(csv_path);
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "model,format,mac,top1_pct,correct,images,agree_fp32_pct,sqnr_db,macs,weight_bytes,energy_uj,latency_us,"
            "bit_exact,note");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 4);
  EXPECT_NE(csv.find("fashion_mnist_cnn,int8,W8A8,"), std::string::npos) << csv;
}

// The CSV row of `model` at `format`, split at commas (the note, last, may hold commas).
std::vector<std::string> csv_row(const std::string& csv, const std::string& model, const std::string& format) {
  const auto at = csv.find("\n" + model + "," + format + ",");
  if (at == std::string::npos) return {};
  std::stringstream line(csv.substr(at + 1, csv.find('\n', at + 1) - at - 1));
  std::vector<std::string> cells;
  for (std::string cell; std::getline(line, cell, ',');) cells.push_back(cell);
  return cells;
}

TEST_F(AccuracyCliTest, BinaryQatModelRecoversWhatPtqLosesAndFullBinaryCollapses) {
  const std::string models =
      " --model " + kModel + " --model " + kSourceDir + "/models/zoo/fashion_mnist_cnn_binary_qat.onnx";
  const std::string csv_path = (dir_ / "binary.csv").string();
  auto r = run_npusim("accuracy --config " + kConfig + models + " --limit 300 --formats binary --csv " + csv_path);
  ASSERT_EQ(r.status, 0) << r.out;
  std::string csv = read_text(csv_path);
  const auto plain = csv_row(csv, "fashion_mnist_cnn", "binary");
  const auto qat = csv_row(csv, "fashion_mnist_cnn_binary_qat", "binary");
  ASSERT_GE(plain.size(), 14u) << csv;
  ASSERT_GE(qat.size(), 14u) << csv;
  // Columns: model, format, mac, top1_pct, correct, ...; conv1 and fc stay at W8A8.
  EXPECT_EQ(plain[2], "W1A1");
  EXPECT_NE(plain[13].find("2/3 layers at W8A8"), std::string::npos) << csv;
  EXPECT_GE(std::stoi(qat[4]), std::stoi(plain[4]) + 30) << "QAT gains at least 10 pp of 300 images";

  // Every layer binary, the input image and the logits too: top-1 is mostly ties.
  r = run_npusim("accuracy --config " + kConfig + " --model " + kModel +
                 " --limit 300 --formats binary --eight-bit-ends none --csv " + csv_path);
  ASSERT_EQ(r.status, 0) << r.out;
  csv = read_text(csv_path);
  const auto collapsed = csv_row(csv, "fashion_mnist_cnn", "binary");
  ASSERT_GE(collapsed.size(), 14u) << csv;
  EXPECT_LT(std::stoi(collapsed[4]), 150) << csv;
  EXPECT_NE(collapsed[13].find("PTQ collapses"), std::string::npos) << csv;
  EXPECT_EQ(collapsed[9], "2554");  // 144 + 4608 + 15680 weights at one bit: 18 + 576 + 1960 bytes
}

TEST_F(AccuracyCliTest, MissingSidecarIsAnInputErrorNamingIt) {
  const auto copy = dir_ / "model.onnx";
  std::filesystem::copy_file(kModel, copy);
  const auto r = run_npusim("accuracy --config " + kConfig + " --model " + copy.string() + " --limit 3");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find((dir_ / "model.preprocess.json").string() + ": cannot open the preprocessing sidecar"),
            std::string::npos)
      << r.out;
}

TEST_F(AccuracyCliTest, LabelCountMustMatchTheImages) {
  const auto labels = dir_ / "labels.idx";
  {
    std::ofstream out(labels, std::ios::binary);
    const char bytes[] = {0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3};
    out.write(bytes, sizeof bytes);
  }
  const auto r =
      run_npusim("accuracy --config " + kConfig + " --model " + kModel + " --limit 5 --labels " + labels.string());
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find(labels.string() + ": holds 3 labels (expected one per image, 5 from"), std::string::npos)
      << r.out;
}

}  // namespace
}  // namespace npusim
