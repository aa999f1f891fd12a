// End-to-end: `npusim run` / `compare` on every model format (SCALE-Sim CSV
// rows as one report) and with the calibration options.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_test_support.h"
#include "temp_dir_test_support.h"

namespace npusim {
namespace {

namespace fs = std::filesystem;
using testing::kSourceDir;
using testing::run_npusim;

const std::string kInt8 = kSourceDir + "/configs/edge_int8_32x32.json";
const std::string kInt4 = kSourceDir + "/configs/edge_int4_32x32.json";
const std::string kLenet = kSourceDir + "/models/zoo/lenet5.json";

class RunModelsCli : public testing::TempDirTest {
 protected:
  nlohmann::json json_of(const std::string& args, int expected_status = 0) {
    const fs::path path = dir_ / ("report" + std::to_string(++count_) + ".json");
    const testing::CommandResult r = run_npusim(args + " --json " + path.string());
    EXPECT_EQ(r.status, expected_status) << r.out;
    std::ifstream in(path);
    return in ? nlohmann::json::parse(in) : nlohmann::json{};
  }
  int count_ = 0;
};

TEST_F(RunModelsCli, ScalesimCsvRunsEveryRowWithSCALESimsMacCountBitExact) {
  const nlohmann::json report =
      json_of("run --config " + kInt8 + " --model " + kSourceDir + "/models/zoo/scalesim/gemm.csv");
  // SCALE-Sim counts M * N * K per GEMM row.
  EXPECT_EQ(report["totals"]["macs"], 4LL * 128 * 768 * 768 + 128LL * 3072 * 768 + 128LL * 768 * 3072);
  ASSERT_EQ(report["layers"].size(), 6u);
  EXPECT_EQ(report["layers"][0]["name"], "attn.q");
  EXPECT_EQ(report["layers"][5]["name"], "ffn.down");
  EXPECT_EQ(report["layers"][4]["macs"], 128LL * 3072 * 768);
  EXPECT_EQ(report["totals"]["bit_exact"], true);
  EXPECT_EQ(report["totals"]["layers_checked"], 6);
  EXPECT_EQ(report["model"]["name"], "gemm");
  EXPECT_EQ(report["model"]["scalesim_rows"], 6);
  EXPECT_EQ(report["quantization"]["source"], "calibration");
}

TEST_F(RunModelsCli, ScalesimCfgAndCsvRunWithScalesimsCycles) {
  // The migration path: a SCALE-Sim .cfg and topology CSV as SCALE-Sim reads them
  // (header unread, no trailing comma on the GEMM row, a 9th value as stride width).
  const fs::path cfg = dir_ / "scale.cfg", gemm = dir_ / "gemm.csv", conv = dir_ / "conv.csv";
  std::ofstream(cfg) << "[general]\nrun_name = four\n[architecture_presets]\nArrayHeight: 4\nArrayWidth: 4\n"
                        "IfmapSramSzkB: 64\nFilterSramSzkB: 64\nOfmapSramSzkB: 64\nDataflow : os\n"
                        "[run_presets]\nInterfaceBandwidth: CALC\n";
  std::ofstream(gemm) << "whatever the header says\ng,8,4,10\n";
  const nlohmann::json report = json_of("run --config " + cfg.string() + " --model " + gemm.string());
  // SCALE-Sim OS: folds ceil(8/4) * ceil(4/4) = 2, each R + C + T - 2 = 4 + 4 + 10 - 2 = 16
  // cycles, reported as the last cycle's index: 2 * 16 - 1 = 31.
  EXPECT_EQ(report["totals"]["cycles"], 31);
  EXPECT_EQ(report["totals"]["macs"], 8 * 4 * 10);
  EXPECT_EQ(report["config"]["name"], "four");
  // A conv row of 9 values: stride 2 down, 1 across. OH = ceil((6 - 3 + 2) / 2) = 3,
  // OW = ceil((6 - 3 + 1) / 1) = 4: M = 12 pixels, N = 4 filters, K = 3 * 3 * 2 = 18;
  // folds ceil(12/4) * ceil(4/4) = 3 of 4 + 4 + 18 - 2 = 24 cycles: 3 * 24 - 1 = 71.
  std::ofstream(conv) << "Layer name\nc, 6, 6, 3, 3, 2, 4, 2, 1,\n";
  const nlohmann::json strided = json_of("run --config " + cfg.string() + " --model " + conv.string());
  EXPECT_EQ(strided["totals"]["macs"], 12 * 4 * 18);
  EXPECT_EQ(strided["totals"]["cycles"], 71);
}

TEST_F(RunModelsCli, CsvRowsAreIndependentAndTheirTotalsAdd) {
  const fs::path one = dir_ / "one.csv", two = dir_ / "two.csv";
  const std::string header =
      "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n";
  const std::string row = ", 12, 12, 3, 3, 8, 16, 1,\n";
  std::ofstream(one) << header << "a" << row;
  std::ofstream(two) << header << "a" << row << "b" << row;
  const nlohmann::json single = json_of("run --config " + kInt8 + " --model " + one.string());
  const nlohmann::json both = json_of("run --config " + kInt8 + " --model " + two.string());
  ASSERT_EQ(both["layers"].size(), 2u);
  const std::int64_t cycles = single["totals"]["cycles"];
  const std::int64_t macs = single["totals"]["macs"];
  EXPECT_EQ(macs, 10 * 10 * 3 * 3 * 8 * 16);  // (12 - 3 + 1)^2 outputs x R x S x C x N
  // Each row starts from an empty accelerator: the same layer costs the same
  // in either file, and the totals add.
  EXPECT_EQ(both["layers"][0]["cycles"], cycles);
  EXPECT_EQ(both["layers"][1]["cycles"], cycles);
  EXPECT_EQ(both["totals"]["cycles"], 2 * cycles);
  EXPECT_EQ(both["totals"]["macs"], 2 * macs);
  EXPECT_EQ(both["layers"][1]["memory"]["dram_read_bytes"], single["layers"][0]["memory"]["dram_read_bytes"]);
  const double single_uj = single["totals"]["energy"]["energy_uj"];
  const double both_uj = both["totals"]["energy"]["energy_uj"];
  EXPECT_NEAR(both_uj, 2 * single_uj, 1e-3 * single_uj);
}

TEST_F(RunModelsCli, CalibrationOptionsChangeTheSqnrAndAreRecorded) {
  const std::string base = "run --config " + kInt4 + " --model " + kLenet;
  const nlohmann::json none = json_of(base + " --eight-bit-ends none");
  const nlohmann::json narrow = json_of(base + " --eight-bit-ends narrow");
  // W8A8 first and last layers are closer to fp32 than W4A4 ones.
  EXPECT_GT(narrow["totals"]["network_sqnr_db"].get<double>(), none["totals"]["network_sqnr_db"].get<double>() + 3.0);
  EXPECT_EQ(none["quantization"]["eight_bit_ends"], "none");
  EXPECT_EQ(narrow["quantization"]["eight_bit_ends"], "narrow");
  // The first compute layer's format says so too.
  EXPECT_EQ(narrow["layers"][0]["format"], "W8A8");

  const nlohmann::json percentile =
      json_of(base +
              " --calibration percentile --percentile 99 --per-tensor-weights --calibration-samples 2 "
              "--eight-bit-layers conv2,fc1");
  const nlohmann::json& q = percentile["quantization"];
  EXPECT_EQ(q["source"], "calibration");
  EXPECT_EQ(q["method"], "percentile");
  EXPECT_EQ(q["percentile"], 99.0);
  EXPECT_EQ(q["per_channel_weights"], false);
  EXPECT_EQ(q["calibration_samples"], 2);
  EXPECT_EQ(q["eight_bit_layers"], (nlohmann::json{"conv2", "fc1"}));
  EXPECT_NE(percentile["totals"]["network_sqnr_db"], json_of(base)["totals"]["network_sqnr_db"]);
  EXPECT_EQ(percentile["totals"]["bit_exact"], true);

  // Float formats are not calibrated, and the report says so.
  const nlohmann::json fp16 = json_of("run --config " + kSourceDir + "/configs/edge_fp16_32x32.json --model " + kLenet);
  EXPECT_EQ(fp16["quantization"]["source"], "float_rounding");
}

// A value an option cannot take is bad input (exit 1, docs/cli.md); an option
// that needs another one is a command-line mistake (exit 2).
TEST_F(RunModelsCli, BadOptionValuesAreOneLineErrors) {
  const std::string base = "run --config " + kInt4 + " --model " + kLenet;
  struct Case {
    std::string args;
    int status;
    std::string message;
  };
  for (const Case& c : {
           Case{"--calibration median", 1, "--calibration expects minmax, percentile or mse, got 'median'"},
           Case{"--percentile 99", 2, "--percentile goes with --calibration percentile"},
           Case{"--calibration percentile --percentile 50", 1, "--percentile expects a share in (50, 100], got 50"},
           Case{"--calibration-samples 0", 1, "--calibration-samples expects a count in [1, 1073741824], got 0"},
           Case{"--eight-bit-ends both", 1, "--eight-bit-ends expects none, binary_only or narrow, got 'both'"},
           Case{"--eight-bit-layers conv1,,fc1", 1, "--eight-bit-layers expects a comma-separated list of layer names"},
           Case{"--eight-bit-layers pool1", 1,
                "--eight-bit-layers: " + kLenet + " has no conv2d or fc layer named 'pool1'"},
       }) {
    const testing::CommandResult r = run_npusim(base + " " + c.args);
    EXPECT_EQ(r.status, c.status) << c.args << "\n" << r.out;
    EXPECT_EQ(r.out, "npusim: error: " + c.message + "\n") << c.args;
  }
  const testing::CommandResult compare =
      run_npusim("compare --config " + kInt4 + " --model " + kLenet + " --calibration x");
  EXPECT_EQ(compare.status, 1) << compare.out;
}

TEST_F(RunModelsCli, UnknownExtensionAndTracingSeveralRowsAreInputErrors) {
  const fs::path txt = dir_ / "net.txt";
  std::ofstream(txt) << "{}";
  const testing::CommandResult unknown = run_npusim("run --config " + kInt8 + " --model " + txt.string());
  EXPECT_EQ(unknown.status, 1) << unknown.out;
  EXPECT_NE(unknown.out.find("unknown model file extension '.txt' (expected .json"), std::string::npos) << unknown.out;

  const testing::CommandResult traced = run_npusim("run --config " + kInt8 + " --model " + kSourceDir +
                                                   "/models/zoo/scalesim/gemm.csv --trace " + (dir_ / "t").string());
  EXPECT_EQ(traced.status, 1) << traced.out;
  EXPECT_NE(traced.out.find("6 independent SCALE-Sim rows"), std::string::npos) << traced.out;
}

// A QDQ ONNX file (generated with the onnx Python package: x -> Quantize/
// Dequantize (scale 1/127, zp 0) -> Conv 3x3, 4 filters, int8 weights scale
// 0.01 -> Quantize/Dequantize (scale 0.02, zp -5); input [1, 1, 8, 8]).
const char kQdqOnnx[] =
    "\x08\x08\x3a\x97\x03\x0a\x1f\x0a\x01\x78\x0a\x02\x78\x73\x0a\x02\x78\x7a\x12\x02\x78\x71\x22\x0e"
    "\x51\x75\x61\x6e\x74\x69\x7a\x65\x4c\x69\x6e\x65\x61\x72\x0a\x22\x0a\x02\x78\x71\x0a\x02\x78\x73"
    "\x0a\x02\x78\x7a\x12\x02\x78\x64\x22\x10\x44\x65\x71\x75\x61\x6e\x74\x69\x7a\x65\x4c\x69\x6e\x65"
    "\x61\x72\x0a\x22\x0a\x02\x57\x71\x0a\x02\x77\x73\x0a\x02\x77\x7a\x12\x02\x57\x64\x22\x10\x44\x65"
    "\x71\x75\x61\x6e\x74\x69\x7a\x65\x4c\x69\x6e\x65\x61\x72\x0a\x28\x0a\x02\x78\x64\x0a\x02\x57\x64"
    "\x12\x01\x63\x22\x04\x43\x6f\x6e\x76\x2a\x15\x0a\x0c\x6b\x65\x72\x6e\x65\x6c\x5f\x73\x68\x61\x70"
    "\x65\x40\x03\x40\x03\xa0\x01\x07\x0a\x1f\x0a\x01\x63\x0a\x02\x79\x73\x0a\x02\x79\x7a\x12\x02\x63"
    "\x71\x22\x0e\x51\x75\x61\x6e\x74\x69\x7a\x65\x4c\x69\x6e\x65\x61\x72\x0a\x21\x0a\x02\x63\x71\x0a"
    "\x02\x79\x73\x0a\x02\x79\x7a\x12\x01\x79\x22\x10\x44\x65\x71\x75\x61\x6e\x74\x69\x7a\x65\x4c\x69"
    "\x6e\x65\x61\x72\x12\x03\x71\x64\x71\x2a\x34\x08\x04\x08\x01\x08\x03\x08\x03\x10\x03\x42\x02\x57"
    "\x71\x4a\x24\x59\x23\x03\xc5\xcf\x8b\x94\x85\xad\x50\x26\x69\x01\x1b\x78\x3b\x22\x0b\x0f\x6f\xc7"
    "\x51\x2c\x81\xe5\x5b\x0e\x89\x44\x3b\x58\xad\x97\x5d\x86\x0b\x2a\x0c\x10\x01\x42\x02\x77\x73\x4a"
    "\x04\x0a\xd7\x23\x3c\x2a\x09\x10\x03\x42\x02\x77\x7a\x4a\x01\x00\x2a\x0c\x10\x01\x42\x02\x78\x73"
    "\x4a\x04\x04\x02\x01\x3c\x2a\x09\x10\x03\x42\x02\x78\x7a\x4a\x01\x00\x2a\x0c\x10\x01\x42\x02\x79"
    "\x73\x4a\x04\x0a\xd7\xa3\x3c\x2a\x09\x10\x03\x42\x02\x79\x7a\x4a\x01\xfb\x5a\x1b\x0a\x01\x78\x12"
    "\x16\x0a\x14\x08\x01\x12\x10\x0a\x02\x08\x01\x0a\x02\x08\x01\x0a\x02\x08\x08\x0a\x02\x08\x08\x62"
    "\x1b\x0a\x01\x79\x12\x16\x0a\x14\x08\x01\x12\x10\x0a\x02\x08\x01\x0a\x02\x08\x04\x0a\x02\x08\x06"
    "\x0a\x02\x08\x06\x42\x04\x0a\x00\x10\x0d";

TEST_F(RunModelsCli, AlreadyQuantizedOnnxRunsWithTheFilesQuantization) {
  const fs::path onnx = dir_ / "qdq.onnx";
  std::ofstream(onnx, std::ios::binary).write(kQdqOnnx, sizeof kQdqOnnx - 1);
  const nlohmann::json report = json_of("run --config " + kInt8 + " --model " + onnx.string());
  EXPECT_EQ(report["quantization"]["source"], "file");
  EXPECT_EQ(report["totals"]["macs"], 4 * 6 * 6 * 3 * 3);
  EXPECT_EQ(report["totals"]["bit_exact"], true);

  const testing::CommandResult int4 = run_npusim("run --config " + kInt4 + " --model " + onnx.string());
  EXPECT_EQ(int4.status, 1) << int4.out;
  EXPECT_NE(int4.out.find(onnx.string() + ": the file is already quantized to W8A8"), std::string::npos) << int4.out;
  EXPECT_NE(int4.out.find("the config's MAC format is W4A4"), std::string::npos) << int4.out;

  const testing::CommandResult calibrated =
      run_npusim("run --config " + kInt8 + " --model " + onnx.string() + " --calibration mse");
  EXPECT_EQ(calibrated.status, 1) << calibrated.out;
  EXPECT_NE(calibrated.out.find("carries its own quantization"), std::string::npos) << calibrated.out;
}

TEST_F(RunModelsCli, CompareTakesACsvAsOneNetwork) {
  const fs::path csv = dir_ / "rows.csv";
  std::ofstream(csv) << "Layer, M, N, K,\nfirst, 16, 32, 64,\nsecond, 8, 16, 32,\n";
  const nlohmann::json report =
      json_of("compare --config " + kInt8 + " --model " + csv.string() + " --formats int8,int4 --calibration mse");
  EXPECT_EQ(report["model"]["macs"], 16 * 32 * 64 + 8 * 16 * 32);
  EXPECT_EQ(report["model"]["scalesim_rows"], 2);
  ASSERT_EQ(report["designs"].size(), 2u);
  EXPECT_EQ(report["designs"][0]["metrics"]["bit_exact"], true);
  EXPECT_EQ(report["designs"][1]["quantization"]["method"], "mse");
}

}  // namespace
}  // namespace npusim
