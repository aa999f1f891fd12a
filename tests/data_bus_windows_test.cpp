// The peak-bandwidth figure comes from the memory's data bus, not from the
// transfers' issue-to-completion spans (which overlap when many transfers are
// in flight and summed to 3x a DDR4 channel's peak on ResNet-18).
#include "accel/memory/data_bus_windows.h"

#include <gtest/gtest.h>

#include "accel/memory/dram_model.h"
#include "accel/memory/dram_presets.h"

namespace npusim {
namespace {

TEST(DataBusWindows, SplitsABurstAcrossTheWindowsItSpans) {
  // 300 bytes over [900, 1200) ps with 1000 ps windows: 100 in window 0, 200 in window 1.
  DataBusWindows w(1000);
  w.add(900, 1200, 300);
  EXPECT_DOUBLE_EQ(w.peak_window_bytes(), 200.0);
  w.clear();
  EXPECT_DOUBLE_EQ(w.peak_window_bytes(), 0.0);
}

TEST(DataBusWindows, ManyTransfersInFlightNeverExceedTheIdealPipe) {
  // 100 transfers of 4,096 B all issued at t = 0 into a 10 GB/s (10 B/ns) pipe:
  // the pipe moves 10,000 B per 1 us window and no more. Spreading each
  // transfer over [0, its completion) instead gave the first window
  // 10,000 * H(100) ~ 51,900 B.
  DramConfig config;
  config.kind = DramKind::ideal;
  config.ideal.bandwidth_gbps = 10.0;
  config.ideal.latency_ns = 0.0;
  const auto memory = make_dram_model(config);
  DataBusWindows windows(1'000'000);
  memory->observe_data_bus(&windows);
  for (int i = 0; i < 100; ++i) memory->access(std::uint64_t(i) * 4096, 4096, false, 0);
  EXPECT_NEAR(windows.peak_window_bytes(), 10'000.0, 1e-6);
}

TEST(DataBusWindows, DramControllerBurstsStayWithinTheChannelPeak) {
  // DDR4-3200, one x64 channel: 25.6 GB/s = 25,600 B per 1 us window at most.
  // 2,048 bursts of 64 B (128 KiB) requested at t = 0 in one call.
  const auto config = dram_preset("ddr4-3200");
  ASSERT_TRUE(config);
  const auto memory = make_dram_model(*config);
  DataBusWindows windows(1'000'000);
  memory->observe_data_bus(&windows);
  memory->access(0, 128 * 1024, false, 0);
  const double peak = windows.peak_window_bytes();
  EXPECT_LE(peak, config->peak_bandwidth_gbps() * 1000.0 + 1e-6);
  EXPECT_GT(peak, 0.5 * config->peak_bandwidth_gbps() * 1000.0);  // a stream keeps the bus mostly busy
}

}  // namespace
}  // namespace npusim
