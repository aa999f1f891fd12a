// VCD through SystemC's tracing: the waveform plan worked out by hand, then
// the file itself: $var declarations, value changes at the event times, a
// fixed date (same events, same bytes), truncation comment, unwritable path,
// and a write after the simulator's own kernel already ran sc_start.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>
#include "temp_dir_test_support.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <systemc>
#include <utility>
#include <vector>

#include "traces/gtkwave_save.h"
#include "traces/vcd_plan.h"
#include "traces/vcd_writer.h"

namespace npusim {
namespace {

namespace fs = std::filesystem;

TraceEvents sample_events() {
  TraceEvents e;
  e.dram_channel_count = 1;
  e.computes.push_back({"conv1", 0, ComputeUnit::array, 1000, 3000});
  e.computes.push_back({"conv1", 1, ComputeUnit::array, 3000, 4000});  // back to back: stays busy
  e.computes.push_back({"conv1", 0, ComputeUnit::ppu, 4000, 4500});
  e.transfers.push_back({"dram", "ifmap", "ifmap", "conv1", 1900, 100, 2000, false});
  e.transfers.push_back({"dram", "weight", "weight", "conv1", 1000, 500, 1500, false});  // inside the first
  e.stalls.push_back({"conv1", StallCause::ifmap, 200, 1000});
  e.buffer_windows.push_back({"ifmap", 0, 1000, 3000, 1000});
  e.dram_commands.push_back({0, 0, 0, 1, 4, DramCommandKind::rd, 2500, 64});
  return e;
}

// Signal indices of the sample's plan.
enum : int {
  kArray,
  kPpu,
  kDma,
  kStallIfmap,
  kStallWeight,
  kStallOfmap,
  kStallSram,
  kStallPpu,
  kIfmapMbps,
  kDmaMbps,
  kDramMbps
};

TEST(VcdPlan, SignalsAndChangesWorkedOutByHand) {
  const VcdPlan plan = plan_vcd(sample_events(), 1000);
  std::vector<std::pair<std::string, int>> signals;
  for (const VcdSignal& s : plan.signals) signals.emplace_back(s.name, s.width_bits);
  EXPECT_EQ(signals, (std::vector<std::pair<std::string, int>>{{"array_busy", 1},
                                                               {"ppu_busy", 1},
                                                               {"dma_active", 1},
                                                               {"stall_ifmap", 1},
                                                               {"stall_weight", 1},
                                                               {"stall_ofmap", 1},
                                                               {"stall_sram", 1},
                                                               {"stall_ppu", 1},
                                                               {"ifmap_mbps", 64},
                                                               {"dma_mbps", 64},
                                                               {"dram_ch0_mbps", 64}}));
  // Bandwidth over 1000 ps windows, MB/s = bytes * 1e6 / 1000:
  //  ifmap: 3000 + 1000 B in window 0 -> 4,000,000.
  //  dma: window 0 holds 900 B of the first load (1900 * 900/1900) and 500 B of
  //  the second -> 1,400,000; window 1: 1000 + 500 B -> 1,500,000.
  //  dram ch0: one 64 B read in window 2 -> 64,000.
  std::vector<std::vector<std::int64_t>> changes;
  for (const VcdChange& c : plan.changes) changes.push_back({c.time_ps, c.signal, c.value});
  const std::vector<std::vector<std::int64_t>> expected = {{0, kIfmapMbps, 4'000'000},
                                                           {0, kDmaMbps, 1'400'000},
                                                           {100, kDma, 1},
                                                           {200, kStallIfmap, 1},
                                                           {1000, kArray, 1},
                                                           {1000, kStallIfmap, 0},
                                                           {1000, kIfmapMbps, 0},
                                                           {1000, kDmaMbps, 1'500'000},
                                                           {2000, kDma, 0},
                                                           {2000, kDmaMbps, 0},
                                                           {2000, kDramMbps, 64'000},
                                                           {3000, kDramMbps, 0},
                                                           {4000, kArray, 0},
                                                           {4000, kPpu, 1},
                                                           {4500, kPpu, 0}};
  EXPECT_EQ(changes, expected);
  EXPECT_EQ(plan.end_ps, 4500);
}

TEST(VcdPlan, ZeroLengthIntervalsDoNotShowAndEmptyTraceHasNoChanges) {
  TraceEvents events;
  events.stalls.push_back({"l", StallCause::sram, 50, 50});
  const VcdPlan plan = plan_vcd(events, 1000);
  EXPECT_TRUE(plan.changes.empty());
  EXPECT_EQ(plan.end_ps, 50);
  EXPECT_EQ(plan.signals.size(), 9u);  // eight flags (three units, five stall causes) and dma_mbps
}

struct Waveforms {
  std::map<std::string, int> width;                                                  // by name
  std::map<std::string, std::vector<std::pair<std::int64_t, std::int64_t>>> values;  // (time, value) in file order
  std::int64_t last_time = -1;
};

// Reads the declarations and value changes of a VCD file.
Waveforms parse_vcd(const std::string& text) {
  Waveforms w;
  std::map<std::string, std::string> name_of;  // id code -> name
  std::istringstream in(text);
  std::string line;
  std::int64_t now = 0;
  bool definitions_done = false;
  while (std::getline(in, line)) {
    if (line.rfind("$var", 0) == 0) {
      std::istringstream words(line);
      std::string var, type, id, name;
      int bits = 0;
      words >> var >> type >> bits >> id >> name;
      name_of[id] = name;
      w.width[name] = bits;
    } else if (line.rfind("$enddefinitions", 0) == 0) {
      definitions_done = true;
    } else if (!definitions_done || line.empty() || line[0] == '$') {
      continue;
    } else if (line[0] == '#') {
      now = std::stoll(line.substr(1));
      w.last_time = now;
    } else if (line[0] == 'b') {
      const std::size_t space = line.find(' ');
      w.values[name_of.at(line.substr(space + 1))].emplace_back(now, std::stoll(line.substr(1, space - 1), nullptr, 2));
    } else if (line[0] == '0' || line[0] == '1') {
      w.values[name_of.at(line.substr(1))].emplace_back(now, line[0] - '0');
    }
  }
  return w;
}

class VcdFile : public npusim::testing::TempDirTest {};

using Steps = std::vector<std::pair<std::int64_t, std::int64_t>>;

void expect_sample_waveforms(const std::string& text) {
  const Waveforms w = parse_vcd(text);
  EXPECT_EQ(w.width.size(), 11u);  // 3 busy flags, 5 stall causes, 3 bandwidths
  EXPECT_EQ(w.width.at("array_busy"), 1);
  EXPECT_EQ(w.width.at("stall_sram"), 1);
  EXPECT_EQ(w.width.at("dram_ch0_mbps"), 64);
  // Initial values (time 0), then each change at its event time in ps.
  EXPECT_EQ(w.values.at("array_busy"), (Steps{{0, 0}, {1000, 1}, {4000, 0}}));
  EXPECT_EQ(w.values.at("ppu_busy"), (Steps{{0, 0}, {4000, 1}, {4500, 0}}));
  EXPECT_EQ(w.values.at("dma_active"), (Steps{{0, 0}, {100, 1}, {2000, 0}}));
  EXPECT_EQ(w.values.at("stall_ifmap"), (Steps{{0, 0}, {200, 1}, {1000, 0}}));
  EXPECT_EQ(w.values.at("stall_weight"), (Steps{{0, 0}}));
  EXPECT_EQ(w.values.at("ifmap_mbps"), (Steps{{0, 4'000'000}, {1000, 0}}));
  EXPECT_EQ(w.values.at("dma_mbps"), (Steps{{0, 1'400'000}, {1000, 1'500'000}, {2000, 0}}));
  EXPECT_EQ(w.values.at("dram_ch0_mbps"), (Steps{{0, 0}, {2000, 64'000}, {3000, 0}}));
  EXPECT_EQ(w.last_time, 4501);  // the replay runs 1 ps past the last change
}

TEST_F(VcdFile, DeclaresEverySignalAndChangesThemAtTheEventTimes) {
  const fs::path path = dir_ / "trace.vcd";
  write_vcd_trace(sample_events(), path.string(), VcdOptions{1000});
  const std::string text = slurp(path);
  EXPECT_NE(text.find("$timescale\n     1 ps\n$end"), std::string::npos) << text;
  EXPECT_NE(text.find("$var wire    1  aaaaa  array_busy       $end"), std::string::npos) << text;
  EXPECT_NE(text.find("$var wire   64  aaaai  ifmap_mbps [63:0]  $end"), std::string::npos) << text;
  expect_sample_waveforms(text);
  EXPECT_FALSE(fs::exists(dir_ / "trace.vcd.tmp"));
  EXPECT_FALSE(fs::exists(dir_ / "trace.vcd.sc.vcd"));
}

// GTKWave opens trace.gtkw with every signal shown, counters decimal and
// analog, zoomed to the run: 2^-zoom ps per pixel over a 1000-pixel pane.
TEST_F(VcdFile, SaveFileBesideTheVcdShowsEverySignalZoomedToTheRun) {
  write_vcd_trace(sample_events(), (dir_ / "trace.vcd").string(), VcdOptions{1000});
  const std::string save = slurp(dir_ / "trace.gtkw");
  EXPECT_NE(save.find("[dumpfile] \"trace.vcd\"\n"), std::string::npos) << save;
  // The VCD ends at 4501 ps: log2(4501 / 1000) = 2.170...
  EXPECT_NE(save.find("\n*-2.170"), std::string::npos) << save;
  EXPECT_NE(save.find("@28\nSystemC.array_busy\n"), std::string::npos) << save;
  // 0x8024: analog step | right-justified | decimal, then two rows of height.
  EXPECT_NE(save.find("@8024\nSystemC.ifmap_mbps[63:0]\n@20000\n-\n-\n"), std::string::npos) << save;
  EXPECT_NE(save.find("SystemC.dram_ch0_mbps[63:0]"), std::string::npos) << save;
  EXPECT_FALSE(fs::exists(dir_ / "trace.gtkw.tmp"));
}

TEST(GtkwaveSave, ZoomFitsTheRunAndPathsPairWithTheVcd) {
  const std::string save = gtkwave_save_text({{"array_busy", 1}}, 1'000'000, "x.vcd");
  EXPECT_NE(save.find("\n*-9.965784 0 -1"), std::string::npos) << save;  // log2(1e6 ps / 1000 px)
  EXPECT_EQ(gtkwave_save_path("/a/b/trace.vcd"), "/a/b/trace.gtkw");
  EXPECT_EQ(gtkwave_save_path("/a/b/trace"), "/a/b/trace.gtkw");
}

TEST_F(VcdFile, SameEventsSameBytesWithTheDateFixed) {
  write_vcd_trace(sample_events(), (dir_ / "a.vcd").string(), VcdOptions{1000});
  write_vcd_trace(sample_events(), (dir_ / "b.vcd").string(), VcdOptions{1000});
  const std::string a = slurp(dir_ / "a.vcd");
  EXPECT_EQ(a, slurp(dir_ / "b.vcd"));
  EXPECT_EQ(a.rfind("$date\n     (omitted so that equal traces are equal files)\n$end\n", 0), 0u) << a;
}

TEST_F(VcdFile, TruncatedTraceCarriesTheMessageInAComment) {
  TraceEvents events = sample_events();
  events.truncated = true;
  events.max_events = 3;
  write_vcd_trace(events, (dir_ / "t.vcd").string(), VcdOptions{1000});
  const std::string text = slurp(dir_ / "t.vcd");
  EXPECT_EQ(text.rfind("$comment\ntrace truncated at 3 events (limit --trace-max-events)\n$end\n", 0), 0u) << text;
  expect_sample_waveforms(text);
}

TEST_F(VcdFile, UnwritablePathIsAnErrorNamingIt) {
  std::ofstream(dir_ / "plain_file") << "x";
  const std::string path = (dir_ / "plain_file" / "trace.vcd").string();
  try {
    write_vcd_trace(sample_events(), path);
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

// A clocked module like the pe fidelity's: runs a few edges, then pauses.
struct PausingCounter : sc_core::sc_module {
  sc_core::sc_in<bool> clk{"clk"};
  int edges = 0;
  SC_HAS_PROCESS(PausingCounter);
  explicit PausingCounter(sc_core::sc_module_name name) : sc_core::sc_module(name) { SC_THREAD(run); }
  void run() {
    for (;;) {
      wait(clk.posedge_event());
      if (++edges == 5) sc_core::sc_pause();
    }
  }
};

TEST_F(VcdFile, WorksAfterTheSimulatorsKernelRan) {
  const fs::path path = dir_ / "after.vcd";
  if (sc_core::sc_get_status() != sc_core::SC_ELABORATION) {
    // Another test of this process already ran the kernel: that is the case.
    write_vcd_trace(sample_events(), path.string(), VcdOptions{1000});
    expect_sample_waveforms(slurp(path));
    return;
  }
  // Run a design in a child, so this test process keeps a kernel that never started.
  std::fflush(nullptr);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int code = 0;
    try {
      sc_core::sc_clock clock("clock", 1, sc_core::SC_NS);
      PausingCounter counter("counter");
      counter.clk(clock);
      sc_core::sc_start();
      if (counter.edges != 5 || sc_core::sc_get_status() != sc_core::SC_PAUSED) code = 2;
      write_vcd_trace(sample_events(), path.string(), VcdOptions{1000});
      // The simulator's kernel is untouched: it resumes where it paused (4 ns)
      // and sees the edges at 5 and 6 ns; the one at 7 ns, the end of the
      // run, is left for the next sc_start.
      sc_core::sc_start(sc_core::sc_time(3, sc_core::SC_NS));
      if (sc_core::sc_time_stamp() != sc_core::sc_time(7, sc_core::SC_NS)) code = 5;
      if (counter.edges != 7) {
        std::fprintf(stderr, "child: %d edges after resuming\n", counter.edges);
        code = 3;
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child: %s\n", e.what());
      code = 4;
    }
    _exit(code);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  expect_sample_waveforms(slurp(path));
}

}  // namespace
}  // namespace npusim
