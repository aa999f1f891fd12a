// Sustained bandwidth of the DRAM presets: long sequential streams approach
// the peak minus the refresh share, random 64 B reads land far lower, refresh
// costs about tRFC / tREFI of the time, and HBM2 spreads a stream over its
// eight channels. Figures are printed for the README.
#include <gtest/gtest.h>

#include <cstdio>

#include "accel/memory/dram_bandwidth.h"
#include "accel/memory/dram_controller.h"
#include "accel/memory/dram_presets.h"

namespace npusim {
namespace {

DramConfig preset(std::string_view name) { return *dram_preset(name); }

double refresh_share(const DramConfig& c) { return static_cast<double>(c.timing.tRFC) / c.timing.tREFI; }

BandwidthProbe stream(std::uint64_t bytes, std::uint32_t request_bytes = 4096) {
  BandwidthProbe probe;
  probe.pattern = AccessPattern::sequential;
  probe.total_bytes = bytes;
  probe.request_bytes = request_bytes;
  return probe;
}

TEST(DramBandwidth, PresetPeaksMatchTheirDatasheetFigures) {
  // channels * bus bytes * beats per clock / tCK:
  // DDR4-3200 1 * 8 * 2 / 0.625 ns = 25.6; LPDDR4-4266 4 * 2 * 2 / 0.468 ns =
  // 34.19 (34.1 quoted, from 4266 MT/s); LPDDR5-6400 4 * 2 * 8 / 1.25 ns = 51.2;
  // HBM2 8 * 16 * 2 / 1 ns = 256.
  EXPECT_DOUBLE_EQ(preset("ddr4-3200").peak_bandwidth_gbps(), 25.6);
  EXPECT_NEAR(preset("lpddr4-4266").peak_bandwidth_gbps(), 34.1, 0.1);
  EXPECT_DOUBLE_EQ(preset("lpddr5-6400").peak_bandwidth_gbps(), 51.2);
  EXPECT_DOUBLE_EQ(preset("hbm2").peak_bandwidth_gbps(), 256.0);
  EXPECT_DOUBLE_EQ(preset("ideal").peak_bandwidth_gbps(), 25.6);
  // The LPDDR parts are a x64 interface in total.
  EXPECT_EQ(preset("lpddr4-4266").channels * preset("lpddr4-4266").bus_width_bits, 64);
  EXPECT_EQ(preset("lpddr5-6400").channels * preset("lpddr5-6400").bus_width_bits, 64);
}

TEST(DramBandwidth, Ddr4SequentialReadsReachNinetyPercentOfPeakAfterRefresh) {
  const DramConfig ddr4 = preset("ddr4-3200");
  const BandwidthResult r = measure_bandwidth(ddr4, stream(16u << 20));
  const double bound = 0.9 * ddr4.peak_bandwidth_gbps() * (1.0 - refresh_share(ddr4));
  std::printf("ddr4-3200 sequential read: %.2f GB/s (%.1f%% of peak), row hit rate %.3f\n", r.gbps,
              100.0 * r.share_of_peak, r.stats.row_hit_rate());
  EXPECT_GE(r.gbps, bound);
  EXPECT_LE(r.gbps, ddr4.peak_bandwidth_gbps());
  EXPECT_GT(r.stats.row_hit_rate(), 0.95);
}

TEST(DramBandwidth, Ddr4RandomReadsLandFarBelowPeak) {
  const DramConfig ddr4 = preset("ddr4-3200");
  BandwidthProbe probe;
  probe.pattern = AccessPattern::random;
  probe.total_bytes = 4u << 20;
  probe.request_bytes = 64;
  probe.address_range_bytes = std::uint64_t{1} << 30;
  const BandwidthResult r = measure_bandwidth(ddr4, probe);
  std::printf("ddr4-3200 random 64 B read over 1 GiB: %.2f GB/s (%.1f%% of peak), row hit rate %.3f\n", r.gbps,
              100.0 * r.share_of_peak, r.stats.row_hit_rate());
  // Every read opens a row: four ACTs per tFAW = 34 cycles carry 4 * 4 = 16
  // cycles of data, so even perfect bank spreading stays under 16/34 = 47 %.
  EXPECT_LT(r.share_of_peak, 16.0 / 34.0);
  EXPECT_LT(r.share_of_peak, 0.5);
  EXPECT_LT(r.stats.row_hit_rate(), 0.01);
}

TEST(DramBandwidth, RefreshCostsAboutTrfcOverTrefi) {
  DramConfig with = preset("ddr4-3200");
  DramConfig without = with;
  without.refresh = false;
  const BandwidthProbe probe = stream(16u << 20);
  const BandwidthResult on = measure_bandwidth(with, probe);
  const BandwidthResult off = measure_bandwidth(without, probe);
  const double loss = 1.0 - on.gbps / off.gbps;
  std::printf("ddr4-3200 refresh: %.2f%% of the stream's bandwidth; tRFC/tREFI = %.2f%%\n", 100.0 * loss,
              100.0 * refresh_share(with));
  // With no refresh the bus almost never idles. A blocking access() cannot see
  // the next 4 KB call, so when a call starts new rows (every 32 KB: 4 bank
  // groups x 8 KB) their ACT waits for the call itself and tRCD shows once per
  // 8 calls of 256 cycles: 22 / 2048 = about 1 %; measured 2 %.
  EXPECT_GE(off.share_of_peak, 0.97);
  // The rank is blocked tRFC every tREFI, and closing and reopening the banks
  // around it adds a little: the last RD before the due time is followed by PRE
  // (tRTP = 12), REF (tRP = 22), ACT (tRFC = 560) and RD (tRCD = 22), so the bus
  // idles 12 + 22 + 560 + 22 - tBURST 4 = 612 cycles per 12480: 4.90 % against
  // tRFC / tREFI = 4.49 %.
  // The 612 cycles above are what a stream with no other bubble loses; here a
  // refresh's ACT after tRFC replaces one of the per-call tRCD bubbles, so the
  // loss lands near tRFC / tREFI itself (measured 4.38 % against 4.49 %).
  EXPECT_NEAR(loss, refresh_share(with), 0.005);
  // One refresh per tREFI of the stream's duration.
  const double refreshes_expected = static_cast<double>(on.elapsed_ps) / (with.timing.tREFI * with.tCK_ps);
  EXPECT_NEAR(static_cast<double>(on.stats.refreshes), refreshes_expected, 1.0);
}

TEST(DramBandwidth, Hbm2SpreadsAStreamOverAllEightChannels) {
  const DramConfig hbm = preset("hbm2");
  const std::uint64_t bytes = 8u << 20;
  const BandwidthResult r = measure_bandwidth(hbm, stream(bytes));
  std::printf("hbm2 sequential read: %.2f GB/s (%.1f%% of peak)\n", r.gbps, 100.0 * r.share_of_peak);
  ASSERT_EQ(r.stats.channel_busy_ps.size(), 8u);
  // 256 B per channel in turn: each channel carries 1/8 of the 64 B bursts,
  // 2 cycles of 1000 ps each.
  const std::int64_t per_channel_ps = static_cast<std::int64_t>(bytes / 64 / 8) * 2 * 1000;
  for (std::int64_t busy : r.stats.channel_busy_ps) EXPECT_EQ(busy, per_channel_ps);
  // Each 4 KB call gives a channel only 8 bursts and a blocking call cannot
  // see the next, so every new row (a channel's 2 KB row is 4 calls) exposes
  // its ACT and the run sits near 70 % of peak (measured 69.5 %); a DMA that
  // hands the controller a whole tile would get the 90 % the banks allow.
  EXPECT_GE(r.gbps, 0.65 * hbm.peak_bandwidth_gbps() * (1.0 - refresh_share(hbm)));
}

TEST(DramBandwidth, EveryPresetStreamsNearItsPeakAndRandomIsSlower) {
  for (std::string_view name : {"lpddr4-4266", "lpddr5-6400", "hbm2"}) {
    const DramConfig c = preset(name);
    const BandwidthResult seq = measure_bandwidth(c, stream(4u << 20));
    BandwidthProbe random_probe;
    random_probe.pattern = AccessPattern::random;
    random_probe.total_bytes = 2u << 20;
    random_probe.request_bytes = 64;
    const BandwidthResult rnd = measure_bandwidth(c, random_probe);
    std::printf("%s: sequential %.2f GB/s (%.1f%%), random 64 B %.2f GB/s (%.1f%%)\n", std::string(name).c_str(),
                seq.gbps, 100.0 * seq.share_of_peak, rnd.gbps, 100.0 * rnd.share_of_peak);
    // HBM2: see Hbm2SpreadsAStreamOverAllEightChannels (measured 70 %); the
    // LPDDRs lose the same per-call ACT more rarely (measured 83 % and 89 %).
    const double floor = name == "hbm2" ? 0.65 : 0.85;
    EXPECT_GE(seq.gbps, floor * c.peak_bandwidth_gbps() * (1.0 - refresh_share(c))) << name;
    EXPECT_LT(rnd.share_of_peak, 0.5) << name;
  }
}

TEST(DramBandwidth, WritesStreamLikeReads) {
  const DramConfig ddr4 = preset("ddr4-3200");
  BandwidthProbe probe = stream(8u << 20);
  probe.is_write = true;
  const BandwidthResult w = measure_bandwidth(ddr4, probe);
  EXPECT_GE(w.gbps, 0.9 * ddr4.peak_bandwidth_gbps() * (1.0 - refresh_share(ddr4)));
  EXPECT_EQ(w.stats.bytes_written, 8u << 20);
  EXPECT_EQ(w.stats.write_bursts, (8u << 20) / 64);
}

TEST(DramBandwidth, LargeStreamCarriesEveryBurst) {
  // A ResNet-18 run moves ~1e6 bursts through one blocking access() at a time;
  // this one call moves 64 MiB = 2^20 bursts of 64 B (expected by hand: 64 MiB
  // / 64 B) and must issue a RD for each, none lost or doubled. How fast the
  // model does it is a benchmark figure, not a test: bench/dram_bench.sh
  // prints requests per second against the 2 M/s goal.
  DramController dram(preset("ddr4-3200"));
  dram.access(0, std::uint64_t{64} << 20, false, 0);
  EXPECT_EQ(dram.stats().read_bursts, 1u << 20);
  EXPECT_EQ(dram.stats().bytes_read, std::uint64_t{64} << 20);
  EXPECT_EQ(dram.stats().row_hits + dram.stats().row_misses + dram.stats().row_conflicts, 1u << 20);
}

}  // namespace
}  // namespace npusim
