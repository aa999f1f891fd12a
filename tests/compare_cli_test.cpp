// End-to-end: `npusim compare` and `npusim presets`.
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
const std::string kEdge = kSourceDir + "/configs/edge_int8_32x32.json";

fs::path temp(const std::string& name) {
  return fs::temp_directory_path() / ("npusim_compare_" + std::to_string(getpid()) + "_" + name);
}

nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

TEST(CompareCli, FormatsSideBySideWithRatiosAgainstTheFirst) {
  const fs::path json = temp("formats.json"), csv = temp("formats.csv");
  const Result r =
      npusim::testing::run_npusim("compare --config " + kEdge + " --model " + kLenet +
                                  " --formats fp32,int8,int4 --json " + json.string() + " --csv " + csv.string());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("energy_uj"), std::string::npos);
  EXPECT_NE(r.out.find("(0.25x)"), std::string::npos) << r.out;  // int8 DRAM bytes vs fp32
  const auto report = read_json(json);
  ASSERT_EQ(report.at("designs").size(), 3u);
  const auto metric = [&](int design, const char* name) {
    return report.at("designs").at(design).at("metrics").at(name).get<double>();
  };
  // The PE-array energy per MAC is the table's MAC energy: fp32 (3.7 + 0.9 pJ)
  // against int8 (0.2 + 0.1 pJ) in the 45 nm table, 15.33x.
  EXPECT_NEAR(metric(0, "compute_pj_per_mac"), 4.6, 1e-6);
  EXPECT_NEAR(metric(1, "compute_pj_per_mac"), 0.3, 1e-6);
  // Weights dominate LeNet's DRAM traffic; every tensor shrinks 4x from fp32 to
  // int8 and 2x more to int4 (packed two per byte).
  EXPECT_NEAR(metric(0, "dram_bytes") / metric(1, "dram_bytes"), 4.0, 0.01);
  EXPECT_NEAR(metric(1, "dram_bytes") / metric(2, "dram_bytes"), 2.0, 0.01);
  EXPECT_GT(metric(0, "energy_uj"), metric(1, "energy_uj"));
  EXPECT_GT(metric(1, "energy_uj"), metric(2, "energy_uj"));
  EXPECT_GT(metric(0, "area_mm2"), metric(1, "area_mm2"));
  EXPECT_GT(metric(1, "network_sqnr_db"), metric(2, "network_sqnr_db"));
  std::ifstream in(csv);
  std::string header, line;
  std::getline(in, header);
  EXPECT_EQ(header.rfind("design,latency_us,cycles,energy_uj", 0), 0u) << header;
  int rows = 0;
  while (std::getline(in, line)) {
    ++rows;
    // Counts are integers: the cycles cell (third) has no decimal point.
    std::stringstream cells(line);
    std::string design, latency, cycles;
    std::getline(cells, design, ',');
    std::getline(cells, latency, ',');
    std::getline(cells, cycles, ',');
    EXPECT_EQ(cycles.find('.'), std::string::npos) << line;
  }
  EXPECT_EQ(rows, 3);
  for (const char* column : {",energy_mac_pj,", ",energy_sram_ifmap_pj,", ",energy_sram_weight_pj,",
                             ",energy_sram_ofmap_pj,", ",energy_dram_pj,", ",energy_leakage_pj,"}) {
    EXPECT_NE(header.find(column), std::string::npos) << column << " in " << header;
  }
  fs::remove(json);
  fs::remove(csv);
}

TEST(CompareCli, EnergyBreakdownSumsToTheTotalAndEqualsTheRunReport) {
  const fs::path json = temp("breakdown.json"), run_json = temp("breakdown_run.json");
  const Result r = npusim::testing::run_npusim("compare --config " + kEdge + " --model " + kLenet +
                                               " --formats int8,int4 --json " + json.string());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("energy breakdown, pJ"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("energy_sram_weight_pj"), std::string::npos) << r.out;
  const auto designs = read_json(json).at("designs");
  for (const auto& design : designs) {
    const auto& m = design.at("metrics");
    double sum_pj = 0;
    for (const char* part :
         {"mac", "pe_idle", "sram_ifmap", "sram_weight", "sram_ofmap", "dram", "ppu", "interconnect", "leakage"}) {
      sum_pj += m.at(std::string("energy_") + part + "_pj").get<double>();
    }
    // energy_uj is rounded to 6 decimals (1e-6 uJ = 1 pJ); the parts to 6 decimals of a pJ.
    EXPECT_NEAR(sum_pj / 1e6, m.at("energy_uj").get<double>(), 1e-6);
  }
  // The int8 design's parts are the run report's breakdown of the same design.
  const Result run =
      npusim::testing::run_npusim("run --config " + kEdge + " --model " + kLenet + " --json " + run_json.string());
  ASSERT_EQ(run.status, 0) << run.out;
  const auto breakdown = read_json(run_json).at("totals").at("energy").at("breakdown");
  for (const auto& [key, value] : breakdown.items()) {
    if (key == "total_pj") continue;
    EXPECT_NEAR(designs.at(0).at("metrics").at("energy_" + key).get<double>(), value.get<double>(), 1e-3) << key;
  }
  fs::remove(json);
  fs::remove(run_json);
}

TEST(CompareCli, IsoAreaSizesEachFormatsArrayToTheBudget) {
  const fs::path json = temp("iso.json");
  const Result r = npusim::testing::run_npusim("compare --config " + kEdge + " --model " + kLenet +
                                               " --formats fp32,int8 --iso-area 8 --json " + json.string());
  ASSERT_EQ(r.status, 0) << r.out;
  const auto designs = read_json(json).at("designs");
  const int fp32_side = designs.at(0).at("config").at("array").at("rows");
  const int int8_side = designs.at(1).at("config").at("array").at("rows");
  EXPECT_LT(fp32_side, int8_side);  // an fp32 PE is ~15x larger than an int8 one
  for (const auto& d : designs) EXPECT_LE(d.at("metrics").at("area_mm2").get<double>(), 8.0);
  fs::remove(json);
}

TEST(CompareCli, PeFidelityIsRefusedWithThePath) {
  const Result r = npusim::testing::run_npusim("compare --config " + kEdge + " --config " + kEdge + " --model " +
                                               kLenet + " --set array.fidelity=pe");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("$.array.fidelity: compare runs every design in one process"), std::string::npos) << r.out;
}

TEST(Presets, PeakThroughputIsArrayTimesClockTimesLanes) {
  const Result r = npusim::testing::run_npusim("presets");
  ASSERT_EQ(r.status, 0) << r.out;
  // 2 operations per MAC: rows x cols x lanes x clock x 2.
  const std::pair<const char*, const char*> expected[] = {
      {"tpu-v1-like", "peak_tops   91.750"},       // 256*256*700e6*2
      {"eyeriss-like", "peak_tops    0.067"},      // 12*14*200e6*2 = 0.0672
      {"nvdla-small-like", "peak_tops    0.128"},  // 8*8*1e9*2
      {"nvdla-large-like", "peak_tops    4.096"},  // 64*32*1e9*2
      {"gemmini-like", "peak_tops    0.512"},      // 16*16*1e9*2
      {"edge-npu", "peak_tops    2.048"},          // 32*32*1e9*2
  };
  for (const auto& [name, peak] : expected) {
    const auto at = r.out.find(name);
    ASSERT_NE(at, std::string::npos) << name;
    const auto end = r.out.find('\n', at);
    EXPECT_NE(r.out.substr(at, end - at).find(peak), std::string::npos) << r.out.substr(at, end - at);
  }
}

}  // namespace
