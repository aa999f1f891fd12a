// End-to-end: `npusim run --trace DIR` writes the Perfetto/Chrome trace, the
// CSV timeline and the VCD, consistent with the run's own report.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>
#include "cli_test_support.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;

using npusim::testing::kSourceDir;
using npusim::testing::read_text;
using Result = npusim::testing::CommandResult;
const std::string kRun =
    "run --config " + kSourceDir + "/configs/edge_int8_32x32.json --model " + kSourceDir + "/models/zoo/lenet5.json";

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("npusim_trace_" + std::to_string(getpid()) + "_" + name);
  fs::remove_all(dir);
  return dir;
}

TEST(TraceCli, WritesThreeFilesConsistentWithTheReport) {
  const fs::path dir = fresh_dir("ok");
  const fs::path json = dir.string() + ".report.json";
  const Result r = npusim::testing::run_npusim(kRun + " --trace " + dir.string() + " --json " + json.string());
  ASSERT_EQ(r.status, 0) << r.out;
  const auto trace = nlohmann::json::parse(read_text(dir / "trace.json"));
  const auto report = nlohmann::json::parse(read_text(json));
  // Every DMA transfer is an "X" event with its bytes; they add up to the
  // report's DRAM traffic, and one event per fold sits on the array track.
  std::int64_t transfer_bytes = 0, folds = 0;
  for (const auto& e : trace.at("traceEvents")) {
    if (e.at("ph") != "X") continue;
    if (e.contains("args") && e.at("args").contains("bytes") && e.contains("cat") && e.at("cat") == "dma") {
      transfer_bytes += e.at("args").at("bytes").get<std::int64_t>();
    }
    if (e.contains("cat") && e.at("cat") == "compute") ++folds;
  }
  const auto& memory = report.at("totals").at("memory");
  EXPECT_EQ(transfer_bytes,
            memory.at("dram_read_bytes").get<std::int64_t>() + memory.at("dram_write_bytes").get<std::int64_t>());
  EXPECT_GT(folds, 7);
  const std::string csv = read_text(dir / "timeline.csv");
  EXPECT_EQ(csv.rfind("window_start_us,", 0), 0u);
  EXPECT_NE(csv.find("dram_ch0_read_gbps"), std::string::npos);
  const std::string vcd = read_text(dir / "trace.vcd");
  EXPECT_NE(vcd.find("$var"), std::string::npos);
  EXPECT_NE(vcd.find("array_busy"), std::string::npos);
  // Same inputs, same bytes.
  const fs::path again = fresh_dir("again");
  ASSERT_EQ(npusim::testing::run_npusim(kRun + " --trace " + again.string()).status, 0);
  EXPECT_EQ(read_text(dir / "trace.json"), read_text(again / "trace.json"));
  EXPECT_EQ(read_text(dir / "trace.vcd"), read_text(again / "trace.vcd"));
  fs::remove_all(dir);
  fs::remove_all(again);
  fs::remove(json);
}

TEST(TraceCli, LimitCutsTheTraceAndSaysSo) {
  const fs::path dir = fresh_dir("cut");
  const Result r = npusim::testing::run_npusim(kRun + " --trace " + dir.string() + " --trace-max-events 10");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("npusim: trace truncated at 10 events (limit --trace-max-events)"), std::string::npos) << r.out;
  EXPECT_EQ(read_text(dir / "timeline.csv").rfind("window_start_us,", 0), 0u);
  EXPECT_EQ(read_text(dir / "timeline.truncated.txt"), "trace truncated at 10 events (limit --trace-max-events)\n");
  fs::remove_all(dir);
}

TEST(TraceCli, UnwritableDirectoryFailsBeforeTheRun) {
  const Result r = npusim::testing::run_npusim(kRun + " --trace /proc/npusim_cannot_write_here");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out.rfind("npusim: error: --trace: cannot write trace directory '/proc/npusim_cannot_write_here'", 0), 0u)
      << r.out;
  EXPECT_EQ(r.out.find("bit-exact"), std::string::npos);  // nothing ran
}

}  // namespace

namespace {

TEST(TraceCli, LayerFilterKeepsOnlyThoseLayersAndUnknownNamesFail) {
  const fs::path dir = fresh_dir("layers");
  ASSERT_EQ(npusim::testing::run_npusim(kRun + " --trace " + dir.string() + " --trace-layers fc1,fc2").status, 0);
  const auto trace = nlohmann::json::parse(read_text(dir / "trace.json"));
  std::set<std::string> layers;
  for (const auto& e : trace.at("traceEvents")) {
    if (e.contains("args") && e.at("args").contains("layer"))
      layers.insert(e.at("args").at("layer").get<std::string>());
  }
  EXPECT_EQ(layers, (std::set<std::string>{"fc1", "fc2"}));
  const Result r = npusim::testing::run_npusim(kRun + " --trace " + dir.string() + " --trace-layers fc9");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("--trace-layers: " + kSourceDir + "/models/zoo/lenet5.json has no layer named 'fc9'"),
            std::string::npos)
      << r.out;
  fs::remove_all(dir);
}

}  // namespace
