// Splitting bytes over time windows and the per-window traffic built from
// trace events: every expected number is worked out by hand in the comments.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <stdexcept>
#include <utility>
#include <vector>

#include "traces/traffic_timeline.h"
#include "traces/window_split.h"

namespace npusim {
namespace {

std::map<std::int64_t, std::int64_t> split(std::int64_t start, std::int64_t end, std::int64_t bytes,
                                           std::int64_t window) {
  std::map<std::int64_t, std::int64_t> parts;
  split_over_windows(start, end, bytes, window, [&](std::int64_t w, std::int64_t b) { parts[w] += b; });
  return parts;
}

TEST(TraceWindowSplit, TransferSpanningTwoWindowsSplitsInProportionToTime) {
  // 3000 B over [0, 1500) ps: two thirds of the time lie in window 0.
  EXPECT_EQ(split(0, 1500, 3000, 1000), (std::map<std::int64_t, std::int64_t>{{0, 2000}, {1, 1000}}));
}

TEST(TraceWindowSplit, UnevenSplitIsInWholeBytesAndAddsUp) {
  // 1000 B over [500, 3500): done by 1000 ps: floor(1000*500/3000) = 166; by
  // 2000: floor(1000*1500/3000) = 500; by 3000: floor(1000*2500/3000) = 833.
  EXPECT_EQ(split(500, 3500, 1000, 1000),
            (std::map<std::int64_t, std::int64_t>{{0, 166}, {1, 334}, {2, 333}, {3, 167}}));
}

TEST(TraceWindowSplit, ZeroLengthIntervalGoesToTheWindowOfItsStart) {
  EXPECT_EQ(split(2000, 2000, 64, 1000), (std::map<std::int64_t, std::int64_t>{{2, 64}}));
  EXPECT_EQ(split(1999, 1999, 64, 1000), (std::map<std::int64_t, std::int64_t>{{1, 64}}));
}

TEST(TraceWindowSplit, IntervalEndingOnABoundaryDoesNotTouchTheNextWindow) {
  EXPECT_EQ(split(1000, 2000, 10, 1000), (std::map<std::int64_t, std::int64_t>{{1, 10}}));
  EXPECT_EQ(last_window_of(1000, 2000, 1000), 1);
  EXPECT_EQ(last_window_of(1000, 1000, 1000), 1);
}

TEST(TraceWindowSplit, LargeTransfersDoNotOverflow) {
  // 1e12 B over 1e12 ps: bytes * elapsed reaches 1e24, beyond 64 bits.
  const std::int64_t tera = 1'000'000'000'000;
  const auto parts = split(0, tera, tera, tera / 4);
  EXPECT_EQ(parts, (std::map<std::int64_t, std::int64_t>{{0, tera / 4}, {1, tera / 4}, {2, tera / 4}, {3, tera / 4}}));
}

TEST(TraceWindowSplit, RejectsBackwardIntervalsAndBadWindows) {
  EXPECT_THROW(split(10, 5, 1, 1000), std::invalid_argument);
  EXPECT_THROW(split(-1, 5, 1, 1000), std::invalid_argument);
  EXPECT_THROW(split(0, 5, -1, 1000), std::invalid_argument);
  EXPECT_THROW(split(0, 5, 1, 0), std::invalid_argument);
}

TEST(TraceTrafficTimeline, BinsBuffersDmaAndDramChannels) {
  TraceEvents events;
  events.buffer_names = {"weight", "ifmap"};
  events.dram_channel_count = 1;
  events.buffer_windows.push_back({"ofmap", 500, 1000, 100, 40});  // [500, 1500): half in window 0
  events.transfers.push_back({"dram", "ifmap", "ifmap", "l", 300, 0, 3000, false});
  events.transfers.push_back({"ofmap", "dram", "ofmap", "l", 50, 2500, 2500, true});
  events.dram_commands.push_back({2, 0, 0, 0, 7, DramCommandKind::rd, 1200, 64});
  events.dram_commands.push_back({2, 0, 0, 0, 7, DramCommandKind::act, 1100, 0});
  events.dram_commands.push_back({0, 0, 0, 0, 7, DramCommandKind::wr, 100, 32});

  const TrafficTimeline t = build_traffic_timeline(events, 1000);
  ASSERT_EQ(t.buffers.size(), 3u);  // declared ones and the one seen, by name
  EXPECT_EQ(t.buffers[0].name, "ifmap");
  EXPECT_EQ(t.buffers[1].name, "ofmap");
  EXPECT_EQ(t.buffers[2].name, "weight");
  EXPECT_TRUE(t.buffers[0].windows.empty());
  EXPECT_EQ(t.buffers[1].at(0), (WindowBytes{50, 20}));
  EXPECT_EQ(t.buffers[1].at(1), (WindowBytes{50, 20}));
  // DMA: 300 B over [0, 3000) is 100 B per window; the write-back is an instant.
  EXPECT_EQ(t.dma.at(0), (WindowBytes{100, 0}));
  EXPECT_EQ(t.dma.at(2), (WindowBytes{100, 50}));
  // Channels 0..2 (highest seen + 1); ACT moves no data.
  ASSERT_EQ(t.dram_channels.size(), 3u);
  EXPECT_EQ(t.dram_channels[2].name, "dram_ch2");
  EXPECT_EQ(t.dram_channels[2].at(1), (WindowBytes{64, 0}));
  EXPECT_EQ(t.dram_channels[0].at(0), (WindowBytes{0, 32}));
  EXPECT_TRUE(t.dram_channels[1].windows.empty());
  EXPECT_EQ(t.window_count, 3);  // the transfer ends at 3000: last window 2
}

TEST(TraceTrafficTimeline, ChangePointsStepBackToZeroAfterBusyRuns) {
  TrafficSeries s;
  s.windows = {{1, {5, 0}}, {2, {5, 0}}, {4, {0, 7}}};
  const std::vector<std::pair<std::int64_t, WindowBytes>> expected = {
      {0, {0, 0}}, {1, {5, 0}}, {3, {0, 0}}, {4, {0, 7}}, {5, {0, 0}}};
  EXPECT_EQ(s.change_points(), expected);
  TrafficSeries from_zero;
  from_zero.windows = {{0, {1, 1}}};
  EXPECT_EQ(from_zero.change_points(), (std::vector<std::pair<std::int64_t, WindowBytes>>{{0, {1, 1}}, {1, {0, 0}}}));
  EXPECT_EQ(TrafficSeries{}.change_points(), (std::vector<std::pair<std::int64_t, WindowBytes>>{{0, {0, 0}}}));
}

TEST(TraceTrafficTimeline, RatesInDecimalUnits) {
  // 2000 B in 1000 ps = 2 B/ps = 2e12 B/s = 2000 GB/s = 2e6 MB/s.
  EXPECT_EQ(gigabytes_per_second(2000, 1000), 2000.0);
  EXPECT_EQ(megabytes_per_second(2000, 1000), 2'000'000);
  // 1 B in 3 ps = 333333.33 MB/s -> 333333; 2 B in 3 ps = 666666.67 -> 666667.
  EXPECT_EQ(megabytes_per_second(1, 3), 333'333);
  EXPECT_EQ(megabytes_per_second(2, 3), 666'667);
  EXPECT_EQ(gigabytes_per_second(1000, 3000), 1000.0 * 1000.0 / 3000.0);
}

}  // namespace
}  // namespace npusim
