// Streaming trace output: a recorder that flushes every few events into a
// StreamingTraceWriter writes the same bytes as the in-memory writers given the
// whole trace, with events out of order across flushes, ties, overlaps, partial
// SRAM windows split by a flush and truncation; and it never holds more events
// than its flush threshold.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <systemc>
#include "cli_test_support.h"
#include "models/network_json.h"
#include "sim/commands/simulation.h"
#include "sim/config/accelerator_config.h"
#include "temp_dir_test_support.h"
#include "traces/chrome_trace_writer.h"
#include "traces/csv_timeline_writer.h"
#include "traces/streaming_trace_writer.h"
#include "traces/trace_recorder.h"
#include "traces/trace_summary.h"
#include "traces/vcd_writer.h"

namespace npusim {
namespace {

namespace fs = std::filesystem;

// Deterministic pseudo-random numbers (a 64-bit LCG), independent of the library.
class Lcg {
 public:
  explicit Lcg(std::uint64_t seed) : state_(seed) {}
  std::int64_t below(std::int64_t n) {
    state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<std::int64_t>((state_ >> 33) % static_cast<std::uint64_t>(n));
  }

 private:
  std::uint64_t state_;
};

// The same calls for the same seed: times in random order (so flushed runs
// overlap), repeated intervals (ties), zero-length ones, SRAM accesses that
// cross windows and come back to windows already flushed.
void record_mixed_events(const std::vector<TraceRecorder*>& recorders, int count, std::uint64_t seed) {
  Lcg random(seed);
  for (TraceRecorder* r : recorders) {
    r->declare_buffer("weight");
    r->declare_buffer("ifmap");
    r->declare_dram_channels(2);
  }
  std::int64_t last_start = 0, last_end = 0;
  for (int i = 0; i < count; ++i) {
    const bool repeat = random.below(5) == 0;  // same interval as the last event: a tie
    const std::int64_t start = repeat ? last_start : random.below(40'000);
    const std::int64_t length = random.below(4) == 0 ? 0 : random.below(3'000);
    const std::int64_t end = repeat ? last_end : start + length;
    last_start = start;
    last_end = end;
    const std::string layer = "layer" + std::to_string(random.below(3));
    const std::int64_t kind = random.below(6);
    for (TraceRecorder* r : recorders) {
      r->set_current_layer(layer);
      switch (kind) {
        case 0:
          r->record(ComputeEvent{layer, i, random.below(4) == 0 ? ComputeUnit::ppu : ComputeUnit::array, start, end});
          break;
        case 1: r->record(StallEvent{layer, static_cast<StallCause>(i % kStallCauseCount), start, end}); break;
        case 2:
          r->record(TransferEvent{"dram", i % 2 ? "ifmap" : "weight", i % 2 ? "ifmap" : "weight", layer, 64 + i * 7,
                                  start, end, i % 3 == 0});
          break;
        case 3:
          r->record(DramCommandEvent{i % 2, 0, i % 4, i % 3, 100 + i, static_cast<DramCommandKind>(i % 5), start,
                                     i % 5 == 1 || i % 5 == 2 ? 64 : 0});
          break;
        default: r->record_buffer_access(i % 3 ? "ifmap" : "ofmap", start, end, 100 + i, i % 2 ? 50 : 0); break;
      }
    }
  }
}

class TraceStreaming : public testing::TempDirTest {
 protected:
  // Writes the in-memory files into in/ and the streamed ones into out/;
  // returns the streaming recorder's peak resident count.
  struct Result {
    std::int64_t peak_resident = 0;
    std::int64_t memory_events = 0, streamed_events = 0;
    std::int64_t spilled = 0;
    TraceSummary streamed_summary;
    TraceEvents memory;
  };

  Result write_both(TraceLimits limits, std::int64_t window_ps, std::int64_t flush_every, int count,
                    std::uint64_t seed) {
    const fs::path in = dir_ / "in", out = dir_ / "out";
    fs::create_directories(in);
    fs::create_directories(out);
    TraceRecorder memory(limits), streamed(limits);
    Result result;
    {
      StreamingTraceWriter writer(StreamingTraceOptions{out.string(), window_ps});
      streamed.stream_to(&writer, flush_every);
      record_mixed_events({&memory}, count, seed);
      record_mixed_events({&streamed}, count, seed);
      streamed.flush();
      EXPECT_EQ(streamed.resident_event_count(), 0);
      writer.finish();
      result.spilled = writer.spilled_event_count();
      result.streamed_summary = writer.summary();
    }
    result.memory = memory.events();
    write_chrome_trace(result.memory, (in / "trace.json").string(), ChromeTraceOptions{window_ps});
    write_csv_timeline(result.memory, (in / "timeline.csv").string(), CsvTimelineOptions{window_ps});
    write_vcd_trace(result.memory, (in / "trace.vcd").string(), VcdOptions{window_ps});
    result.peak_resident = streamed.peak_resident_event_count();
    result.memory_events = memory.event_count();
    result.streamed_events = streamed.event_count();
    return result;
  }

  void expect_same_files() {
    for (const char* name : {"trace.json", "timeline.csv", "trace.vcd", "trace.gtkw"}) {
      const std::string expected = slurp(dir_ / "in" / name);
      ASSERT_FALSE(expected.empty()) << name;
      EXPECT_TRUE(expected == slurp(dir_ / "out" / name)) << name << " differs";
    }
    // Nothing left behind: no temporary names, no spill directory.
    std::vector<std::string> left;
    for (const auto& entry : fs::directory_iterator(dir_ / "out")) left.push_back(entry.path().filename().string());
    std::sort(left.begin(), left.end());
    // A truncated trace's note beside the timeline, in both or in neither.
    std::vector<std::string> expected{"timeline.csv", "trace.gtkw", "trace.json", "trace.vcd"};
    if (fs::exists(dir_ / "in" / "timeline.truncated.txt")) {
      EXPECT_EQ(slurp(dir_ / "in" / "timeline.truncated.txt"), slurp(dir_ / "out" / "timeline.truncated.txt"));
      expected.insert(expected.begin() + 1, "timeline.truncated.txt");
    }
    EXPECT_EQ(left, expected);
  }
};

TEST_F(TraceStreaming, SameBytesAsInMemoryWithManySmallFlushes) {
  TraceLimits limits;
  limits.buffer_window_ps = 1000;
  const Result r = write_both(limits, 1000, 7, 600, 1);
  EXPECT_GT(r.spilled, 300);
  EXPECT_EQ(r.streamed_events, r.memory_events);
  EXPECT_LE(r.peak_resident, 7);
  EXPECT_EQ(r.peak_resident, 7);
  expect_same_files();
}

TEST_F(TraceStreaming, SameBytesWhenTheFilesWindowDiffersFromTheSramWindow) {
  // Partial SRAM windows must be summed before they are split onto the
  // files' 700 ps windows, or the whole-byte split rounds differently.
  TraceLimits limits;
  limits.buffer_window_ps = 1000;
  const Result r = write_both(limits, 700, 5, 400, 2);
  EXPECT_LE(r.peak_resident, 5);
  expect_same_files();
}

TEST_F(TraceStreaming, SameBytesForATruncatedTrace) {
  TraceLimits limits;
  limits.buffer_window_ps = 1000;
  limits.max_events = 150;
  const Result r = write_both(limits, 1000, 11, 600, 3);
  ASSERT_TRUE(r.memory.truncated);
  EXPECT_EQ(r.streamed_events, 150);
  EXPECT_EQ(r.streamed_summary.truncation, "trace truncated at 150 events (limit --trace-max-events)");
  EXPECT_TRUE(fs::exists(dir_ / "out" / "timeline.truncated.txt"));
  EXPECT_LE(r.peak_resident, 11);
  expect_same_files();
}

TEST_F(TraceStreaming, SummaryEqualsTheInMemoryAggregatesAndCoarsensExactly) {
  TraceLimits limits;
  limits.buffer_window_ps = 1000;
  const Result r = write_both(limits, 1000, 9, 500, 4);
  const TraceSummary expected = summarize_trace(r.memory, 1000);
  const TrafficTimeline reference = build_traffic_timeline(r.memory, 1000);
  const TraceSummary& got = r.streamed_summary;
  EXPECT_EQ(got.end_ps, trace_end_ps(r.memory));
  EXPECT_EQ(got.end_ps, expected.end_ps);
  EXPECT_EQ(got.array_busy_ps, expected.array_busy_ps);
  EXPECT_EQ(got.traffic.window_count, reference.window_count);
  ASSERT_EQ(got.traffic.buffers.size(), reference.buffers.size());
  for (std::size_t b = 0; b < reference.buffers.size(); ++b) {
    EXPECT_EQ(got.traffic.buffers[b].name, reference.buffers[b].name);
    EXPECT_EQ(got.traffic.buffers[b].windows, reference.buffers[b].windows);
  }
  EXPECT_EQ(got.traffic.dma.windows, reference.dma.windows);
  ASSERT_EQ(got.traffic.dram_channels.size(), 2u);
  EXPECT_EQ(got.traffic.dram_channels[1].windows, reference.dram_channels[1].windows);

  // The HTML charts merge windows: summing 3 windows of 1000 ps must equal
  // binning the events onto 3000 ps windows directly.
  const TrafficTimeline coarse = coarsen(got.traffic, 3);
  const TrafficTimeline direct = build_traffic_timeline(r.memory, 3000);
  EXPECT_EQ(coarse.window_ps, 3000);
  EXPECT_EQ(coarse.dma.windows, direct.dma.windows);
  EXPECT_EQ(coarse.dram_channels[0].windows, direct.dram_channels[0].windows);
  for (std::size_t b = 0; b < direct.buffers.size(); ++b) {
    EXPECT_EQ(coarse.buffers[b].windows, direct.buffers[b].windows) << direct.buffers[b].name;
  }
  // Busy time by hand for one fold that crosses a window boundary.
  TraceEvents one;
  one.computes.push_back({"conv", 0, ComputeUnit::array, 900, 2'100});
  one.computes.push_back({"pool", 0, ComputeUnit::ppu, 0, 5'000});  // not the array's
  EXPECT_EQ(summarize_trace(one, 1000).array_busy_ps,
            (std::map<std::int64_t, std::int64_t>{{0, 100}, {1, 1000}, {2, 100}}));
}

// A real run: `npusim run --trace` (streaming) against the same simulation
// recorded in memory and written by the in-memory writers.
TEST_F(TraceStreaming, CliTraceOfARealRunEqualsTheInMemoryWriters) {
  const std::string config_path = std::string(NPUSIM_SOURCE_DIR) + "/configs/edge_int8_32x32.json";
  const std::string model_path = std::string(NPUSIM_SOURCE_DIR) + "/models/zoo/tiny_mixed.json";
  const fs::path in = dir_ / "in", out = dir_ / "out";
  fs::create_directories(in);
  const testing::CommandResult r = testing::run_npusim("run --config " + config_path + " --model " + model_path +
                                                       " --trace " + out.string() + " --trace-window-ns 50");
  ASSERT_EQ(r.status, 0) << r.out;

  // The memory system elaborates SystemC modules, which a process whose
  // kernel has run (earlier tests) cannot do: simulate in a child with a fresh
  // kernel, as traces/vcd_writer.h does.
  std::fflush(nullptr);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int status = 1;
    try {
      sc_core::sc_curr_simcontext = new sc_core::sc_simcontext;
      sc_core::sc_default_global_context = sc_core::sc_curr_simcontext;
      const AcceleratorConfig config = load_accelerator_config(config_path, {});
      const Graph graph = load_network_json(model_path);
      const EnergyTable table = load_config_energy_table(config);
      const auto engine = make_engine(config);
      TraceLimits limits;
      limits.buffer_window_ps = 50'000;
      TraceRecorder recorder(limits);
      simulate(config, graph, *engine, table, {}, &recorder);
      const TraceEvents events = recorder.events();
      if (events.transfers.size() > 10 && events.dram_commands.size() > 100) {
        write_chrome_trace(events, (in / "trace.json").string(), ChromeTraceOptions{50'000});
        write_csv_timeline(events, (in / "timeline.csv").string(), CsvTimelineOptions{50'000});
        write_vcd_trace(events, (in / "trace.vcd").string(), VcdOptions{50'000});
        status = 0;
      }
    } catch (...) {
    }
    _exit(status);
  }
  int status = -1;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "in-memory reference run failed";
  expect_same_files();
}

TEST(TraceRecorderStreaming, AWindowReopenedAfterAFlushIsNotCountedTwice) {
  struct Collect : TraceSink {
    void consume(TraceEvents batch) override { batches.push_back(std::move(batch)); }
    std::vector<TraceEvents> batches;
  } sink;
  TraceLimits limits;
  limits.buffer_window_ps = 1000;
  TraceRecorder recorder(limits);
  recorder.stream_to(&sink, 1);
  recorder.record_buffer_access("ifmap", 0, 500, 10, 0);     // window 0: counted, flushed
  recorder.record_buffer_access("ifmap", 500, 1000, 20, 4);  // window 0 again: more bytes, no new event
  recorder.record_buffer_access("ifmap", 1000, 1500, 5, 0);  // window 1: counted
  recorder.flush();
  EXPECT_EQ(recorder.event_count(), 2);
  EXPECT_EQ(recorder.peak_resident_event_count(), 1);
  std::int64_t window0_read = 0, window0_write = 0;
  for (const TraceEvents& b : sink.batches) {
    for (const BufferAccessWindow& w : b.buffer_windows) {
      if (w.window_start_ps == 0) window0_read += w.read_bytes, window0_write += w.write_bytes;
    }
  }
  EXPECT_EQ(window0_read, 30);
  EXPECT_EQ(window0_write, 4);
  EXPECT_THROW(recorder.stream_to(nullptr, 1), std::invalid_argument);
  EXPECT_THROW(recorder.stream_to(&sink, 0), std::invalid_argument);
}

}  // namespace
}  // namespace npusim
