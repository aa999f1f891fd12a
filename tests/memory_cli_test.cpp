// End-to-end: `npusim run` with a memory system. Narrower formats must move
// proportionally fewer DRAM bytes, the report must carry the memory figures,
// and a buffer too small for one fold must fail before the run.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>
#include "cli_test_support.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;

using npusim::testing::kSourceDir;
using npusim::testing::read_text;
using Result = npusim::testing::CommandResult;
const std::string kLenet = kSourceDir + "/models/zoo/lenet5.json";

nlohmann::json run_json(const std::string& config, const std::string& extra = "") {
  const fs::path path = fs::temp_directory_path() / ("npusim_memory_" + std::to_string(getpid()) + "_" +
                                                     fs::path(config).stem().string() + ".json");
  const Result r = npusim::testing::run_npusim("run --config " + kSourceDir + "/configs/" + config + " --model " +
                                               kLenet + " " + extra + " --json " + path.string());
  EXPECT_EQ(r.status, 0) << r.out;
  std::ifstream in(path);
  nlohmann::json json = nlohmann::json::parse(in);
  fs::remove(path);
  return json;
}

const nlohmann::json& layer(const nlohmann::json& report, const std::string& name) {
  for (const auto& l : report.at("layers")) {
    if (l.at("name") == name) return l;
  }
  throw std::runtime_error("no layer " + name);
}

TEST(MemoryCli, NarrowerFormatsMoveProportionallyFewerWeightBytes) {
  // LeNet-5 fc1 has 400 x 120 = 48,000 weights; they cross from DRAM once.
  const auto fp32 = run_json("edge_fp32_32x32.json");
  const auto fp16 = run_json("edge_fp16_32x32.json");
  const auto int8 = run_json("edge_int8_32x32.json");
  const auto int4 = run_json("edge_int4_32x32.json");
  const auto binary = run_json("edge_binary_32x32.json");
  const auto weight_bytes = [](const nlohmann::json& report) {
    return layer(report, "fc1").at("memory").at("dram_read_bytes_weight").get<std::int64_t>();
  };
  EXPECT_EQ(weight_bytes(fp32), 192000);
  EXPECT_EQ(weight_bytes(fp16), 96000);
  EXPECT_EQ(weight_bytes(int8), 48000);
  EXPECT_EQ(weight_bytes(int4), 24000);
  EXPECT_EQ(weight_bytes(binary), 6000);
  // The whole run moves fewer bytes as the format narrows.
  const auto total = [](const nlohmann::json& report) {
    return report.at("totals").at("memory").at("dram_read_bytes").get<std::int64_t>();
  };
  EXPECT_GT(total(fp32), total(fp16));
  EXPECT_GT(total(fp16), total(int8));
  EXPECT_GT(total(int8), total(int4));
}

TEST(MemoryCli, ReportCarriesTrafficBandwidthAndStalls) {
  const auto report = run_json("edge_int8_32x32.json", "--set memory.dram.preset=ddr4-3200");
  const auto& conv1 = layer(report, "conv1").at("memory");
  // The 1x32x32 int8 input (1024 B) and 6x1x5x5 weights (150 B), nothing else:
  // conv1's output stays on chip for pool1.
  EXPECT_EQ(conv1.at("dram_read_bytes"), 1024 + 150);
  EXPECT_EQ(conv1.at("dram_write_bytes"), 0);
  EXPECT_TRUE(conv1.at("output_on_chip").get<bool>());
  std::int64_t cycles = 0, stalls = 0;
  for (const auto& l : report.at("layers")) {
    const auto& m = l.at("memory");
    EXPECT_EQ(l.at("cycles").get<std::int64_t>(),
              m.at("compute_cycles").get<std::int64_t>() + m.at("stall_cycles").at("total").get<std::int64_t>())
        << l.at("name");
    EXPECT_LE(m.at("dram_peak_gbps").get<double>(), 25.6 + 1e-9) << l.at("name");
    cycles += l.at("cycles").get<std::int64_t>();
    stalls += m.at("stall_cycles").at("total").get<std::int64_t>();
  }
  EXPECT_EQ(report.at("totals").at("cycles"), cycles);
  EXPECT_EQ(report.at("totals").at("memory").at("stall_cycles").at("total"), stalls);
  EXPECT_GT(stalls, 0);  // every layer waits at least for its first loads
  EXPECT_EQ(report.at("config").at("memory").at("dram").at("preset"), "ddr4-3200");
}

TEST(MemoryCli, BufferTooSmallForOneFoldFailsBeforeTheRun) {
  const Result r = npusim::testing::run_npusim("run --config " + kSourceDir + "/configs/edge_int8_32x32.json --model " +
                                               kLenet + " --set memory.sram.weight.kb=1");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "npusim: error: " + kSourceDir +
                       "/configs/edge_int8_32x32.json: $.memory.sram.weight.kb: 1024 bytes cannot hold one minimal "
                       "tile: double buffering needs 2 x 1024 = 2048 bytes (layer fc1)\n");
}

TEST(MemoryCli, UnknownDramPresetNamesThePath) {
  const Result r = npusim::testing::run_npusim("run --config " + kSourceDir + "/configs/edge_int8_32x32.json --model " +
                                               kLenet + " --set memory.dram.preset=ddr9");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("$.memory.dram.preset: expected one of ddr4-3200"), std::string::npos) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
}

}  // namespace
