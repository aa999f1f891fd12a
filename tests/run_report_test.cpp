// The reference check, the run totals and the two report forms, on runs built
// by hand (no engine): values below are derived in the comments.
#include <gtest/gtest.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "models/input_error.h"
#include "sim/report/atomic_file.h"
#include "sim/report/report.h"
#include "sim/run/network_runner.h"
#include "sim/run/reference_check.h"

namespace npusim {
namespace {

namespace fs = std::filesystem;

Tensor ints(std::vector<std::int8_t> q) {
  Tensor t;
  t.dims = {static_cast<std::int64_t>(q.size()), 1, 1};
  t.format = NumberFormat::int8;
  t.q = std::move(q);
  return t;
}

Tensor floats(std::vector<float> f) {
  Tensor t;
  t.dims = {static_cast<std::int64_t>(f.size()), 1, 1};
  t.format = NumberFormat::fp32;
  t.f = std::move(f);
  return t;
}

TEST(ReferenceCheck, ChunkFollowsTheDataflow) {
  ArrayConfig array;
  array.rows = 4;
  array.mac.lanes = 2;
  array.dataflow = Dataflow::ws;
  EXPECT_EQ(reference_reduction_chunk(array), 8);
  array.dataflow = Dataflow::is;
  EXPECT_EQ(reference_reduction_chunk(array), 8);
  array.dataflow = Dataflow::os;
  EXPECT_EQ(reference_reduction_chunk(array), 0);
}

TEST(ReferenceCheck, IntegerTensorsReportTheFirstDifferingElement) {
  EXPECT_FALSE(first_difference(ints({1, 2, 3}), ints({1, 2, 3})));
  EXPECT_EQ(first_difference(ints({1, 2, 5, 9}), ints({1, 2, 6, 0})), "element 2: sim 5, reference 6");
  EXPECT_EQ(first_difference(ints({1, 2}), ints({1, 2, 3})), "dims: sim {2, 1, 1}, reference {3, 1, 1}");
  Tensor other = ints({1});
  other.format = NumberFormat::int4;
  EXPECT_EQ(first_difference(ints({1}), other), "format: sim int8, reference int4");
}

TEST(ReferenceCheck, FloatsCompareAsBitPatterns) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_FALSE(first_difference(floats({1.5f, nan}), floats({1.5f, nan})));  // NaN == NaN by bits
  const auto zero = first_difference(floats({1.0f, -0.0f}), floats({1.0f, 0.0f}));
  ASSERT_TRUE(zero);
  EXPECT_EQ(*zero, "element 1: sim -0 (0x80000000), reference 0 (0x00000000)");
  const float other_nan = std::bit_cast<float>(0x7fc00001u);
  EXPECT_TRUE(first_difference(floats({nan}), floats({other_nan})));
}

TEST(ReferenceCheck, OverflowCountsMustAgreeToo) {
  NetworkRun run;
  run.layers.resize(2);
  run.layers[0].output = ints({1, 2});
  run.layers[0].overflow_outputs = 2;
  run.layers[1].output = ints({3});
  ReferenceResult reference;
  reference.outputs = {ints({1, 2}), ints({4})};
  reference.overflow_outputs = {0, 0};
  const auto checks = check_against_reference(run, reference);
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_FALSE(checks[0].bit_exact);
  EXPECT_EQ(checks[0].detail, "overflow outputs: sim 2, reference 0");
  EXPECT_FALSE(checks[1].bit_exact);
  EXPECT_EQ(checks[1].detail, "element 0: sim 3, reference 4");
  EXPECT_FALSE(all_bit_exact(checks));

  run.layers[0].overflow_outputs = 0;
  run.layers[1].output = ints({4});
  const auto fixed = check_against_reference(run, reference);
  EXPECT_TRUE(all_bit_exact(fixed));
  EXPECT_EQ(fixed[1].detail, "bit-exact");

  reference.outputs.pop_back();
  EXPECT_THROW(check_against_reference(run, reference), std::logic_error);
}

TEST(PpuTiming, CyclesAreCeilOfElementsTimesInputsOverWidth) {
  PpuConfig ppu;
  ppu.elements_per_cycle = 16;
  EXPECT_EQ(ppu_cycles(64, 2, ppu), 8);
  EXPECT_EQ(ppu_cycles(65, 1, ppu), 5);
  EXPECT_EQ(ppu_cycles(1, 1, ppu), 1);
  ppu.elements_per_cycle = 1;
  EXPECT_EQ(ppu_cycles(7, 2, ppu), 14);
}

// A 4x2 array at 500 MHz running one array layer (40 cycles) and one PPU layer
// (5 cycles); the PPU layer mismatches the reference.
class HandRun : public ::testing::Test {
 protected:
  HandRun() {
    config_.name = "hand";
    config_.clock_mhz = 500.0;
    config_.array.rows = 4;
    config_.array.cols = 2;
    graph_.name = "handnet";
    graph_.input_dims = {1, 2, 5};

    LayerRecord conv;
    conv.name = "c1";
    conv.type = LayerType::conv2d;
    conv.format = "W8A8";
    conv.unit = ExecutionUnit::array;
    conv.gemm = {10, 4, 8};
    conv.gemm_count = 1;
    conv.macs = 320;
    conv.cycles = 40;
    conv.folds = 1;
    conv.utilization = 1.0;  // 320 / (40 * 4 * 2)
    conv.mapping_efficiency = 0.5;
    conv.overflow_outputs = 2;
    conv.output = ints({1, 2, 3, 4});
    LayerRecord pool;
    pool.name = "pool_one";
    pool.type = LayerType::maxpool;
    pool.format = "int8";
    pool.unit = ExecutionUnit::ppu;
    pool.cycles = 5;
    pool.output = ints({4});
    run_.layers = {conv, pool};
    run_.total_cycles = 45;
    run_.total_macs = 320;
    checks_ = {{true, "bit-exact"}, {false, "element 0: sim 4, reference 3"}};
  }

  RunReport report() const { return RunReport{config_, graph_, run_, checks_}; }

  AcceleratorConfig config_;
  Graph graph_;
  NetworkRun run_;
  std::vector<LayerCheck> checks_;
};

TEST_F(HandRun, TotalsAddUpTheLayers) {
  const RunTotals t = summarize(report());
  EXPECT_EQ(t.cycles, 45);
  EXPECT_EQ(t.array_cycles, 40);
  EXPECT_EQ(t.ppu_cycles, 5);
  EXPECT_EQ(t.macs, 320);
  EXPECT_EQ(t.overflow_outputs, 2);
  EXPECT_DOUBLE_EQ(t.latency_us, 0.09);                    // 45 cycles / 500 MHz
  EXPECT_DOUBLE_EQ(t.effective_gmac_per_s, 320.0 / 90.0);  // 320 MACs in 90 ns
  EXPECT_DOUBLE_EQ(t.utilization, 320.0 / (45.0 * 8.0));
  EXPECT_EQ(t.layers_checked, 2);
  EXPECT_EQ(t.layers_mismatched, 1);
}

TEST_F(HandRun, TableAlignsColumnsAndExplainsMismatches) {
  std::ostringstream out;
  write_table(out, report());
  const std::string text = out.str();
  std::istringstream lines(text);
  std::string line, header, conv_row, pool_row;
  while (std::getline(lines, line)) {
    if (line.rfind("layer ", 0) == 0) header = line;
    if (line.rfind("c1 ", 0) == 0) conv_row = line;
    if (line.rfind("pool_one ", 0) == 0) pool_row = line;
  }
  ASSERT_FALSE(header.empty()) << text;
  // Text columns start together; numeric columns end together.
  EXPECT_EQ(header.find("check"), conv_row.find("bit-exact")) << text;
  EXPECT_EQ(header.find("check"), pool_row.find("MISMATCH")) << text;
  const auto cycles_end = header.find("cycles") + 6;
  EXPECT_EQ(conv_row.substr(cycles_end - 2, 2), "40") << text;
  EXPECT_EQ(pool_row.substr(cycles_end - 1, 1), "5") << text;
  EXPECT_NE(conv_row.find("10x4x8"), std::string::npos);
  EXPECT_NE(conv_row.find("0.080"), std::string::npos);   // latency_us = 40 / 500
  EXPECT_NE(conv_row.find("100.00"), std::string::npos);  // utilization_pct
  EXPECT_NE(conv_row.find("50.00"), std::string::npos);   // mapping_eff_pct
  EXPECT_NE(text.find("total: cycles 45 (array 40, ppu 5), latency_us 0.090, MACs 320"), std::string::npos) << text;
  EXPECT_NE(text.find("check: 1 of 2 layers MISMATCH"), std::string::npos) << text;
  EXPECT_NE(text.find("  pool_one: element 0: sim 4, reference 3\n"), std::string::npos) << text;
}

TEST_F(HandRun, JsonCarriesSchemaUnitsAndChecks) {
  const auto json = to_json(report());
  EXPECT_EQ(json.at("schema"), "npusim.run/1");
  EXPECT_EQ(json.at("config").at("name"), "hand");
  EXPECT_EQ(json.at("model").at("name"), "handnet");
  const auto& conv = json.at("layers").at(0);
  EXPECT_EQ(conv.at("gemm").at("k"), 8);
  EXPECT_EQ(conv.at("latency_us"), 0.08);
  EXPECT_EQ(conv.at("utilization_pct"), 100.0);
  EXPECT_EQ(conv.at("mapping_efficiency_pct"), 50.0);
  const auto& pool = json.at("layers").at(1);
  EXPECT_TRUE(pool.at("gemm").is_null());
  EXPECT_TRUE(pool.at("utilization_pct").is_null());
  EXPECT_EQ(pool.at("check").at("bit_exact"), false);
  EXPECT_EQ(pool.at("check").at("detail"), "element 0: sim 4, reference 3");
  const auto& totals = json.at("totals");
  EXPECT_EQ(totals.at("cycles"), 45);
  EXPECT_EQ(totals.at("latency_us"), 0.09);
  EXPECT_EQ(totals.at("effective_gmac_per_s"), 3.555556);  // 6 decimals
  EXPECT_EQ(totals.at("utilization_pct"), 88.8889);        // 4 decimals
  EXPECT_EQ(totals.at("bit_exact"), false);
  EXPECT_EQ(totals.at("layers_mismatched"), 1);
}

class Files : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("npusim_files_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(Files, AtomicWriteReplacesTheFileAndLeavesNoTemporary) {
  const std::string path = (dir_ / "out.json").string();
  write_file_atomically(path, "first");
  write_file_atomically(path, "second\n");
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "second\n");
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST_F(Files, AtomicWriteIntoAMissingDirectoryThrowsInputErrorNamingThePath) {
  const std::string path = (dir_ / "missing" / "out.json").string();
  try {
    write_file_atomically(path, "x");
    ADD_FAILURE() << "no error";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find(path), std::string::npos) << error.what();
  }
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

}  // namespace
}  // namespace npusim
