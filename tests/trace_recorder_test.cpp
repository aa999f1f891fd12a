// The trace recorder: event limit and its message, layer and time filters,
// SRAM accesses summed per window.
#include "traces/trace_recorder.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace npusim {
namespace {

ComputeEvent fold(const std::string& layer, std::int64_t index, std::int64_t start, std::int64_t end) {
  return ComputeEvent{layer, index, ComputeUnit::array, start, end};
}

TEST(TraceRecorder, LimitCutsTheTraceAndSaysSo) {
  TraceLimits limits;
  limits.max_events = 3;
  TraceRecorder recorder(limits);
  for (int i = 0; i < 3; ++i) recorder.record(fold("conv1", i, i * 10, i * 10 + 5));
  // Exactly at the limit: nothing was dropped yet.
  EXPECT_FALSE(recorder.truncated());
  EXPECT_TRUE(recorder.accepting());
  EXPECT_EQ(recorder.truncation_message(), "");

  recorder.record(StallEvent{"conv1", StallCause::weight, 40, 50});
  recorder.record(fold("conv1", 3, 50, 60));
  EXPECT_TRUE(recorder.truncated());
  EXPECT_FALSE(recorder.accepting());
  EXPECT_EQ(recorder.event_count(), 3);
  EXPECT_EQ(recorder.truncation_message(), "trace truncated at 3 events (limit --trace-max-events)");

  const TraceEvents events = recorder.events();
  ASSERT_EQ(events.computes.size(), 3u);
  EXPECT_EQ(events.computes[2].fold_index, 2);
  EXPECT_TRUE(events.stalls.empty());
  EXPECT_TRUE(events.truncated);
  EXPECT_EQ(events.max_events, 3);
  EXPECT_EQ(truncation_message(events), "trace truncated at 3 events (limit --trace-max-events)");
}

TEST(TraceRecorder, DefaultLimitIsTwoMillionEvents) {
  EXPECT_EQ(TraceRecorder().limits().max_events, 2'000'000);
  EXPECT_EQ(TraceRecorder().events().max_events, 2'000'000);
}

TEST(TraceRecorder, LayerFilterUsesTheEventsLayerOrTheCurrentOne) {
  TraceLimits limits;
  limits.layers = {"conv2"};
  TraceRecorder recorder(limits);
  // Before any layer, events without a layer of their own are not kept.
  recorder.record(DramCommandEvent{0, 0, 0, 0, 1, DramCommandKind::act, 5, 0});
  recorder.set_current_layer("conv1");
  recorder.record(fold("conv1", 0, 0, 10));
  recorder.record(DramCommandEvent{0, 0, 0, 0, 1, DramCommandKind::act, 10, 0});
  recorder.record_buffer_access("ifmap", 0, 10, 64, 0);
  // A prefetch for conv2 issued while conv1 runs is conv2's.
  recorder.record(TransferEvent{"dram", "weight", "weight", "conv2", 128, 2, 8, false});
  recorder.set_current_layer("conv2");
  recorder.record(DramCommandEvent{1, 0, 0, 3, 9, DramCommandKind::rd, 20, 64});
  recorder.record(fold("", 0, 20, 30));  // no layer of its own: the current one
  recorder.record(StallEvent{"conv1", StallCause::ifmap, 30, 31});

  const TraceEvents events = recorder.events();
  ASSERT_EQ(events.transfers.size(), 1u);
  EXPECT_EQ(events.transfers[0].layer, "conv2");
  ASSERT_EQ(events.dram_commands.size(), 1u);
  EXPECT_EQ(events.dram_commands[0].time_ps, 20);
  ASSERT_EQ(events.computes.size(), 1u);
  EXPECT_EQ(events.computes[0].start_ps, 20);
  EXPECT_TRUE(events.stalls.empty());
  EXPECT_TRUE(events.buffer_windows.empty());
  EXPECT_FALSE(events.truncated);  // filtered events are not a truncation
}

TEST(TraceRecorder, TimeRangeKeepsOverlappingIntervalsAndInstantsInside) {
  TraceLimits limits;
  limits.from_ps = 1000;
  limits.to_ps = 2000;
  TraceRecorder recorder(limits);
  recorder.record(fold("a", 0, 0, 1000));                                           // ends where the range starts: out
  recorder.record(fold("a", 1, 500, 1500));                                         // overlaps: in, whole
  recorder.record(fold("a", 2, 1999, 2500));                                        // overlaps: in
  recorder.record(fold("a", 3, 2000, 2100));                                        // starts at the end: out
  recorder.record(DramCommandEvent{0, 0, 0, 0, 0, DramCommandKind::pre, 1000, 0});  // in
  recorder.record(DramCommandEvent{0, 0, 0, 0, 0, DramCommandKind::pre, 2000, 0});  // out
  const TraceEvents events = recorder.events();
  ASSERT_EQ(events.computes.size(), 2u);
  EXPECT_EQ(events.computes[0].fold_index, 1);
  EXPECT_EQ(events.computes[0].start_ps, 500);
  EXPECT_EQ(events.computes[1].fold_index, 2);
  ASSERT_EQ(events.dram_commands.size(), 1u);
  EXPECT_EQ(events.dram_commands[0].time_ps, 1000);
}

TEST(TraceRecorder, BufferAccessesAreSummedPerWindowAndCountOncePerWindow) {
  TraceLimits limits;
  limits.buffer_window_ps = 1000;
  TraceRecorder recorder(limits);
  // 2000 B read over [500, 2500): 500 + 1000 + 500; 400 B written: 100 + 200 + 100.
  recorder.record_buffer_access("ifmap", 500, 2500, 2000, 400);
  recorder.record_buffer_access("ifmap", 0, 1000, 100, 0);  // adds to window 0
  recorder.record_buffer_access("weight", 3000, 3000, 8, 0);
  EXPECT_EQ(recorder.event_count(), 4);  // three ifmap windows, one weight window

  const TraceEvents events = recorder.events();
  ASSERT_EQ(events.buffer_windows.size(), 4u);
  const BufferAccessWindow& w0 = events.buffer_windows[0];
  EXPECT_EQ(w0.buffer, "ifmap");
  EXPECT_EQ(w0.window_start_ps, 0);
  EXPECT_EQ(w0.window_length_ps, 1000);
  EXPECT_EQ(w0.read_bytes, 600);
  EXPECT_EQ(w0.write_bytes, 100);
  EXPECT_EQ(events.buffer_windows[1].window_start_ps, 1000);
  EXPECT_EQ(events.buffer_windows[1].read_bytes, 1000);
  EXPECT_EQ(events.buffer_windows[1].write_bytes, 200);
  EXPECT_EQ(events.buffer_windows[2].read_bytes, 500);
  EXPECT_EQ(events.buffer_windows[2].write_bytes, 100);
  EXPECT_EQ(events.buffer_windows[3].buffer, "weight");
  EXPECT_EQ(events.buffer_windows[3].window_start_ps, 3000);
  EXPECT_EQ(events.buffer_windows[3].read_bytes, 8);
}

TEST(TraceRecorder, BufferWindowsOutsideTheTimeRangeAreDropped) {
  TraceLimits limits;
  limits.buffer_window_ps = 1000;
  limits.from_ps = 1000;
  limits.to_ps = 2000;
  TraceRecorder recorder(limits);
  recorder.record_buffer_access("ofmap", 0, 3000, 0, 3000);
  const TraceEvents events = recorder.events();
  ASSERT_EQ(events.buffer_windows.size(), 1u);
  EXPECT_EQ(events.buffer_windows[0].window_start_ps, 1000);
  EXPECT_EQ(events.buffer_windows[0].write_bytes, 1000);
}

TEST(TraceRecorder, DeclaredComponentsAndTakeEvents) {
  TraceRecorder recorder;
  recorder.declare_buffer("ifmap");
  recorder.declare_buffer("ifmap");
  recorder.declare_buffer("weight");
  recorder.declare_dram_channels(2);
  recorder.declare_dram_channels(1);
  recorder.record(fold("a", 0, 0, 1));
  TraceEvents taken = recorder.take_events();
  EXPECT_EQ(taken.buffer_names, (std::vector<std::string>{"ifmap", "weight"}));
  EXPECT_EQ(taken.dram_channel_count, 2);
  EXPECT_EQ(taken.computes.size(), 1u);
  EXPECT_EQ(recorder.event_count(), 0);
  EXPECT_TRUE(recorder.events().computes.empty());
}

TEST(TraceRecorder, RejectsBadLimitsAndBackwardIntervals) {
  TraceLimits limits;
  limits.max_events = -1;
  EXPECT_THROW(TraceRecorder{limits}, std::invalid_argument);
  limits = {};
  limits.to_ps = 0;
  try {
    TraceRecorder recorder(limits);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("to_ps"), std::string::npos) << e.what();
  }
  limits = {};
  limits.buffer_window_ps = 0;
  EXPECT_THROW(TraceRecorder{limits}, std::invalid_argument);

  TraceRecorder recorder;
  EXPECT_THROW(recorder.record(fold("a", 0, 10, 5)), std::invalid_argument);
  EXPECT_THROW(recorder.record_buffer_access("ifmap", 10, 5, 1, 1), std::invalid_argument);
}

}  // namespace
}  // namespace npusim
