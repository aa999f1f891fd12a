// Chrome trace event JSON: tracks, phases, microsecond timestamps and the
// bandwidth counters, all worked out by hand from a small event list.
#include <gtest/gtest.h>

#include <unistd.h>
#include "temp_dir_test_support.h"

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "traces/chrome_trace_writer.h"

namespace npusim {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

TraceEvents sample_events() {
  TraceEvents e;
  e.computes.push_back({"conv1", 0, ComputeUnit::array, 1'000'000, 1'500'000});
  e.computes.push_back({"conv1", 0, ComputeUnit::ppu, 1'500'000, 1'600'000});
  e.stalls.push_back({"conv1", StallCause::weight, 0, 1'000'000});
  e.transfers.push_back({"dram", "ifmap", "ifmap", "conv1", 4096, 0, 800'000, false});
  e.transfers.push_back({"dram", "weight", "weight", "conv1", 2048, 200'000, 900'000, false});
  e.transfers.push_back({"ofmap", "dram", "ofmap", "conv1", 1024, 1'600'000, 2'000'000, true});
  e.dram_commands.push_back({1, 0, 2, 3, 77, DramCommandKind::act, 1'250, 0});
  e.dram_commands.push_back({1, 0, 2, 3, 77, DramCommandKind::rd, 10'000, 64});
  e.buffer_windows.push_back({"ifmap", 0, 1'000'000, 4096, 0});
  return e;
}

json render(const TraceEvents& events, std::int64_t window_ps = 1'000'000) {
  std::ostringstream out;
  write_chrome_trace(events, out, ChromeTraceOptions{window_ps});
  return json::parse(out.str());
}

std::vector<json> select(const json& trace, const std::function<bool(const json&)>& keep) {
  std::vector<json> found;
  for (const json& e : trace.at("traceEvents")) {
    if (keep(e)) found.push_back(e);
  }
  return found;
}

json only(const json& trace, const std::string& ph, const std::string& name) {
  const auto found = select(trace, [&](const json& e) { return e.at("ph") == ph && e.at("name") == name; });
  EXPECT_EQ(found.size(), 1u) << ph << " " << name;
  return found.empty() ? json{} : found[0];
}

TEST(ChromeTraceWriter, OneNamedTrackPerComponentWithLanesForOverlaps) {
  const json trace = render(sample_events());
  EXPECT_EQ(trace.at("displayTimeUnit"), "ns");
  std::vector<std::string> names;
  std::vector<int> tids;
  for (const json& e : select(trace, [](const json& e) { return e.at("name") == "thread_name"; })) {
    names.push_back(e.at("args").at("name"));
    tids.push_back(e.at("tid"));
    EXPECT_EQ(e.at("ph"), "M");
    EXPECT_EQ(e.at("pid"), 1);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"array", "ppu", "dma load ifmap", "dma load weight", "dma store",
                                             "dram ch0", "dram ch1", "sram ifmap"}));
  EXPECT_EQ(tids, (std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(only(trace, "M", "process_name").at("args").at("name"), "npusim");
  // Metadata comes first.
  const json& events = trace.at("traceEvents");
  bool past_metadata = false;
  for (const json& e : events) {
    if (e.at("ph") != "M") past_metadata = true;
    if (past_metadata) {
      EXPECT_NE(e.at("ph"), "M");
    }
  }
}

// Hand-made transfers: two ifmap loads in flight together, a weight load, a
// partial-sum reload into ofmap and two stores, one after the other. Expected:
// one track per queue, sorted by name; a second lane only where two
// transfers of one queue overlap.
TEST(ChromeTraceWriter, OneTrackPerDmaQueueWithLanesForOverlaps) {
  TraceEvents e;
  e.transfers.push_back({"dram", "ifmap", "ifmap", "c", 64, 0, 500'000, false});
  e.transfers.push_back({"dram", "ifmap", "ifmap", "c", 64, 100'000, 600'000, false});
  e.transfers.push_back({"dram", "weight", "weight", "c", 64, 200'000, 300'000, false});
  e.transfers.push_back({"dram", "ofmap", "ofmap", "c", 64, 700'000, 800'000, false});
  e.transfers.push_back({"ofmap", "dram", "ofmap", "c", 64, 900'000, 1'000'000, true});
  e.transfers.push_back({"ofmap", "dram", "ofmap", "c", 64, 1'000'000, 1'100'000, true});
  const json trace = render(e);
  std::map<int, std::string> track;
  for (const json& m : select(trace, [](const json& m) { return m.at("name") == "thread_name"; })) {
    track[m.at("tid")] = m.at("args").at("name");
  }
  std::vector<std::string> names;
  for (const auto& [tid, name] : track) {
    if (name.rfind("dma", 0) == 0) names.push_back(name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"dma load ifmap", "dma load ifmap #2", "dma load ofmap", "dma load weight",
                                             "dma store"}));
  std::vector<std::string> placed;
  for (const json& t : select(trace, [](const json& t) { return t.value("cat", "") == "dma"; })) {
    placed.push_back(track.at(t.at("tid")));
  }
  // In time order; the second store starts as the first ends: the same lane.
  EXPECT_EQ(placed, (std::vector<std::string>{"dma load ifmap", "dma load ifmap #2", "dma load weight",
                                              "dma load ofmap", "dma store", "dma store"}));
}

TEST(ChromeTraceWriter, CompleteEventsInMicroseconds) {
  const json trace = render(sample_events());
  const auto folds = select(trace, [](const json& e) { return e.at("name") == "conv1 fold 0"; });
  ASSERT_EQ(folds.size(), 2u);
  // 1,000,000 ps = 1 us; 500,000 ps = 0.5 us.
  EXPECT_EQ(folds[0].at("tid"), 1);
  EXPECT_EQ(folds[0].at("ts").get<double>(), 1.0);
  EXPECT_EQ(folds[0].at("dur").get<double>(), 0.5);
  EXPECT_EQ(folds[0].at("cat"), "compute");
  EXPECT_EQ(folds[0].at("args"), (json{{"layer", "conv1"}, {"fold", 0}, {"unit", "array"}}));
  EXPECT_EQ(folds[1].at("tid"), 2);
  EXPECT_EQ(folds[1].at("ts").get<double>(), 1.5);
  EXPECT_EQ(folds[1].at("dur").get<double>(), 0.1);
  EXPECT_EQ(folds[1].at("args").at("unit"), "ppu");

  const json stall = only(trace, "X", "stall: weight");
  EXPECT_EQ(stall.at("tid"), 1);
  EXPECT_EQ(stall.at("ts").get<double>(), 0.0);
  EXPECT_EQ(stall.at("dur").get<double>(), 1.0);
  EXPECT_EQ(stall.at("args"), (json{{"layer", "conv1"}, {"cause", "weight"}}));

  const auto loads = select(trace, [](const json& e) { return e.value("cat", "") == "dma"; });
  ASSERT_EQ(loads.size(), 3u);
  EXPECT_EQ(loads[0].at("name"), "dram -> ifmap");
  EXPECT_EQ(loads[0].at("tid"), 3);
  EXPECT_EQ(loads[0].at("dur").get<double>(), 0.8);
  EXPECT_EQ(loads[0].at("args").at("bytes"), 4096);
  EXPECT_EQ(loads[0].at("args").at("buffer"), "ifmap");
  EXPECT_EQ(loads[0].at("args").at("is_write"), false);
  EXPECT_EQ(loads[1].at("name"), "dram -> weight");
  EXPECT_EQ(loads[1].at("tid"), 4);  // its own queue's track
  EXPECT_EQ(loads[1].at("ts").get<double>(), 0.2);
  EXPECT_EQ(loads[2].at("name"), "ofmap -> dram");
  EXPECT_EQ(loads[2].at("tid"), 5);  // dma store
  EXPECT_EQ(loads[2].at("ts").get<double>(), 1.6);
  EXPECT_EQ(loads[2].at("dur").get<double>(), 0.4);
  EXPECT_EQ(loads[2].at("args").at("is_write"), true);

  const json window = only(trace, "X", "ifmap access");
  EXPECT_EQ(window.at("tid"), 8);
  EXPECT_EQ(window.at("args"), (json{{"read_bytes", 4096}, {"write_bytes", 0}}));
}

TEST(ChromeTraceWriter, DramCommandsAreInstantsOnTheirChannel) {
  const json trace = render(sample_events());
  const json act = only(trace, "i", "ACT");
  EXPECT_EQ(act.at("s"), "t");
  EXPECT_EQ(act.at("tid"), 7);                     // dram ch1
  EXPECT_EQ(act.at("ts").get<double>(), 0.00125);  // 1250 ps
  EXPECT_EQ(act.at("args"), (json{{"rank", 0}, {"bank_group", 2}, {"bank", 3}, {"row", 77}}));
  const json rd = only(trace, "i", "RD");
  EXPECT_EQ(rd.at("ts").get<double>(), 0.01);
  EXPECT_EQ(rd.at("args").at("bytes"), 64);
}

// (ts, GB/s) of each sample of one counter.
std::vector<std::pair<double, double>> counter(const json& trace, const std::string& name) {
  std::vector<std::pair<double, double>> samples;
  for (const json& e : select(trace, [&](const json& e) { return e.at("ph") == "C" && e.at("name") == name; })) {
    EXPECT_EQ(e.at("pid"), 1);
    EXPECT_EQ(e.at("args").size(), 1u);
    samples.emplace_back(e.at("ts").get<double>(), e.at("args").at("GB/s").get<double>());
  }
  return samples;
}

using Samples = std::vector<std::pair<double, double>>;

TEST(ChromeTraceWriter, BandwidthCountersInGigabytesPerSecondPerWindow) {
  const json trace = render(sample_events());
  // ifmap: 4096 B read in the first 1 us window = 4096 * 1000 / 1e6 = 4.096 GB/s, then idle.
  EXPECT_EQ(counter(trace, "sram ifmap read"), (Samples{{0.0, 4.096}, {1.0, 0.0}}));
  EXPECT_EQ(counter(trace, "sram ifmap write"), (Samples{{0.0, 0.0}}));
  // DMA: 4096 + 2048 B loaded in window 0; the 1024 B write-back in window 1.
  EXPECT_EQ(counter(trace, "dma read"), (Samples{{0.0, 6.144}, {1.0, 0.0}}));
  EXPECT_EQ(counter(trace, "dma write"), (Samples{{0.0, 0.0}, {1.0, 1.024}, {2.0, 0.0}}));
  // Channel 1: one 64 B read burst; channel 0 idle all along.
  EXPECT_EQ(counter(trace, "dram ch1 read"), (Samples{{0.0, 0.064}, {1.0, 0.0}}));
  EXPECT_EQ(counter(trace, "dram ch1 write"), (Samples{{0.0, 0.0}}));
  EXPECT_EQ(counter(trace, "dram ch0 read"), (Samples{{0.0, 0.0}}));
  EXPECT_EQ(trace.at("otherData").at("bandwidth_window"), "1000000 ps");
}

TEST(ChromeTraceWriter, CounterWindowIsAParameter) {
  // Windows of 0.5 us: the 4096 B buffer window spreads 2048 + 2048 B, 4.096 GB/s each.
  const json trace = render(sample_events(), 500'000);
  EXPECT_EQ(counter(trace, "sram ifmap read"), (Samples{{0.0, 4.096}, {1.0, 0.0}}));
  // DMA: [0, 0.5 us) holds floor(4096 * 500/800) = 2560 B of the first load and
  // floor(2048 * 300/700) = 877 B of the second: 3437 B in 0.5 us = 6.874 GB/s.
  const Samples dma = counter(trace, "dma read");
  ASSERT_FALSE(dma.empty());
  EXPECT_EQ(dma[0], (std::pair<double, double>{0.0, 3437 * 1000.0 / 500'000}));
  EXPECT_EQ(trace.at("otherData").at("bandwidth_window"), "500000 ps");
}

TEST(ChromeTraceWriter, TruncatedTraceSaysSo) {
  TraceEvents events = sample_events();
  EXPECT_FALSE(render(events).at("otherData").contains("truncated"));
  events.truncated = true;
  events.max_events = 7;
  const json trace = render(events);
  const std::string message = "trace truncated at 7 events (limit --trace-max-events)";
  EXPECT_EQ(trace.at("otherData").at("truncated"), message);
  const json marker = only(trace, "i", message);
  EXPECT_EQ(marker.at("s"), "g");
  EXPECT_EQ(marker.at("ts").get<double>(), 2.0);  // the last event ends at 2 us
}

class ChromeTraceFile : public npusim::testing::TempDirTest {};

TEST_F(ChromeTraceFile, SameEventsSameBytes) {
  const TraceEvents events = sample_events();
  const fs::path a = dir_ / "a.json", b = dir_ / "b.json";
  write_chrome_trace(events, a.string());
  write_chrome_trace(events, b.string());
  const std::string first = slurp(a);
  EXPECT_FALSE(first.empty());
  EXPECT_EQ(first, slurp(b));
  std::ostringstream direct;
  write_chrome_trace(events, direct);
  EXPECT_EQ(first, direct.str());
  EXPECT_FALSE(fs::exists(dir_ / "a.json.tmp"));
}

TEST_F(ChromeTraceFile, UnwritablePathIsAnErrorNamingIt) {
  std::ofstream(dir_ / "plain_file") << "x";
  const std::string path = (dir_ / "plain_file" / "trace.json").string();
  try {
    write_chrome_trace(sample_events(), path);
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace npusim
