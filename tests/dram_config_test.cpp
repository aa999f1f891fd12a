// DRAM presets, validation messages, address mapping and the ideal memory.
#include <gtest/gtest.h>

#include <stdexcept>

#include "accel/memory/dram_address.h"
#include "accel/memory/dram_bandwidth.h"
#include "accel/memory/dram_controller.h"
#include "accel/memory/dram_model.h"
#include "accel/memory/dram_presets.h"
#include "accel/memory/ideal_memory.h"

namespace npusim {
namespace {

TEST(DramConfig, EveryPresetValidatesAndHasConsistentTiming) {
  ASSERT_EQ(dram_preset_names().size(), 5u);
  for (std::string_view name : dram_preset_names()) {
    const std::optional<DramConfig> c = dram_preset(name);
    ASSERT_TRUE(c.has_value()) << name;
    EXPECT_EQ(c->name, name);
    EXPECT_EQ(validate(*c), "") << name;
    if (c->kind == DramKind::timing) {
      EXPECT_GE(c->timing.tRC, c->timing.tRAS + c->timing.tRP) << name;  // tRC = tRAS + tRP
      EXPECT_EQ(c->burst_cycles() * c->transfers_per_clock, c->burst_length) << name;
    }
  }
  EXPECT_FALSE(dram_preset("ddr3-1600").has_value());
}

TEST(DramConfig, PresetOrganizationsGiveTheirPartsCapacity) {
  // DDR4: 16 banks * 64 K rows * 8 KB = 8 GiB. LPDDR4: 4 ch * 8 banks * 64 K * 2 KB
  // = 4 GiB. LPDDR5: 4 ch * 16 * 32 K * 2 KB = 4 GiB. HBM2: 8 ch * 16 * 16 K * 2 KB = 4 GiB.
  EXPECT_EQ(dram_preset("ddr4-3200")->capacity_bytes(), std::uint64_t{8} << 30);
  EXPECT_EQ(dram_preset("lpddr4-4266")->capacity_bytes(), std::uint64_t{4} << 30);
  EXPECT_EQ(dram_preset("lpddr5-6400")->capacity_bytes(), std::uint64_t{4} << 30);
  EXPECT_EQ(dram_preset("hbm2")->capacity_bytes(), std::uint64_t{4} << 30);
  EXPECT_EQ(dram_preset("ddr4-3200")->burst_bytes(), 64);
  EXPECT_EQ(dram_preset("lpddr4-4266")->burst_bytes(), 32);
  EXPECT_EQ(dram_preset("hbm2")->burst_bytes(), 64);
}

TEST(DramConfig, ValidateNamesTheFieldAndWhatWasExpected) {
  DramConfig c = *dram_preset("ddr4-3200");
  c.channels = 3;
  EXPECT_EQ(validate(c), "channels: expected a power of two in [1, 1024], got 3");

  c = *dram_preset("ddr4-3200");
  c.timing.tREFI = 500;
  EXPECT_EQ(validate(c), "timing.tREFI: expected an integer in [561, 16777216], got 500");
  c.refresh = false;  // tREFI no longer matters
  EXPECT_EQ(validate(c), "");

  c = *dram_preset("ddr4-3200");
  c.timing.tRC = 40;
  EXPECT_EQ(validate(c).rfind("timing.tRC: expected an integer in [52,", 0), 0u) << validate(c);

  c = *dram_preset("ddr4-3200");
  c.address_mapping = "RoBaCoCh";
  EXPECT_EQ(validate(c).rfind("address_mapping: expected each of Ro, Ba, Ra, Co, Ch once", 0), 0u);
  c.address_mapping = "RoBaRaCoChCh";
  EXPECT_NE(validate(c), "");

  c = *dram_preset("ddr4-3200");
  c.interleave_bytes = 32;  // below the 64 B burst
  EXPECT_EQ(validate(c),
            "interleave_bytes: expected a power of two between the burst (64 B) and the row (8192 B), got 32");

  c = *dram_preset("lpddr5-6400");
  c.burst_length = 4;  // half a clock at 8 beats per clock
  EXPECT_EQ(validate(c).rfind("burst_length: expected at least transfers_per_clock (8)", 0), 0u);

  DramConfig ideal = *dram_preset("ideal");
  ideal.ideal.bandwidth_gbps = 0;
  EXPECT_EQ(validate(ideal), "ideal.bandwidth_gbps: expected a positive number, got 0");
}

TEST(DramConfig, ModelsRefuseAnInvalidConfig) {
  DramConfig c = *dram_preset("ddr4-3200");
  c.controller.transaction_queue_depth = 0;
  EXPECT_THROW(DramController{c}, std::invalid_argument);
  EXPECT_THROW(make_dram_model(c), std::invalid_argument);
  EXPECT_THROW(IdealMemory{*dram_preset("ddr4-3200")}, std::invalid_argument);  // wrong kind
}

// A DDR4-like geometry with 2 channels and 2 ranks, RoBaRaCoCh, 256 B granule.
// Bits: [0,6) byte in burst, [6,8) low column, 8 channel, [9,14) column,
// 14 rank, [15,19) bank (group in the low 2), [19,...) row.
DramConfig two_channel_ddr4() {
  DramConfig c = *dram_preset("ddr4-3200");
  c.channels = 2;
  c.ranks = 2;
  c.address_mapping = "RoBaRaCoCh";
  c.interleave_bytes = 256;
  return c;
}

TEST(DramAddressMapping, RoBaRaCoChPlacesEachFieldWhereDerived) {
  const AddressMapper m(two_channel_ddr4());
  EXPECT_EQ(m.decode(64).column, 1);
  EXPECT_EQ(m.decode(255).channel, 0);
  EXPECT_EQ(m.decode(256).channel, 1);
  EXPECT_EQ(m.decode(1u << 9).column, 4);
  EXPECT_EQ(m.decode(1u << 9).channel, 0);
  EXPECT_EQ(m.decode(1u << 14).rank, 1);
  EXPECT_EQ(m.decode(1u << 15).bank_group, 1);
  EXPECT_EQ(m.decode(1u << 15).bank, 0);
  EXPECT_EQ(m.decode(1u << 17).bank_group, 0);
  EXPECT_EQ(m.decode(1u << 17).bank, 1);
  EXPECT_EQ(m.decode(1u << 19).row, 1);
  EXPECT_EQ(m.decode((1u << 19) - 1).row, 0);
}

TEST(DramAddressMapping, ChRaBaRoCoPutsTheChannelOnTop) {
  DramConfig c = two_channel_ddr4();
  c.address_mapping = "ChRaBaRoCo";
  const AddressMapper m(c);
  const std::uint64_t half = c.capacity_bytes() / 2;
  EXPECT_EQ(m.decode(half - 1).channel, 0);
  EXPECT_EQ(m.decode(half).channel, 1);
  // A whole 8 KB row is contiguous: column bits are the lowest.
  EXPECT_EQ(m.decode(8191).row, 0);
  EXPECT_EQ(m.decode(8191).column, 127);
  EXPECT_EQ(m.decode(8192).row, 1);
}

TEST(DramAddressMapping, EncodeInvertsDecodeAndHighBitsWrap) {
  for (const char* mapping : {"RoBaRaCoCh", "ChRaBaRoCo", "RoRaBaChCo", "RoBaRaCoBgCh"}) {
    DramConfig c = two_channel_ddr4();
    c.address_mapping = mapping;
    const AddressMapper m(c);
    std::uint64_t x = 12345;
    for (int i = 0; i < 1000; ++i) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      const std::uint64_t burst = (x >> 11) % (c.capacity_bytes() / 64) * 64;
      EXPECT_EQ(m.encode(m.decode(burst)), burst) << mapping;
    }
    const DramAddress wrapped = m.decode(c.capacity_bytes() + 4096);
    EXPECT_EQ(m.encode(wrapped), 4096u) << mapping;
  }
}

TEST(IdealMemory, FixedBandwidthPipePlusLatency) {
  IdealMemory ideal(*dram_preset("ideal"));  // 25.6 GB/s, 30 ns
  // 64 B take 64 / 25.6 = 2.5 ns on the pipe, then 30 ns latency.
  EXPECT_EQ(ideal.access(0, 64, false, 0), 32'500);
  // Queued behind the first: pipe free at 2.5 ns, busy until 5 ns.
  EXPECT_EQ(ideal.access(1u << 20, 64, true, 0), 35'000);
  // Arriving after the pipe drained: no queueing.
  EXPECT_EQ(ideal.access(0, 2560, false, 100'000), 100'000 + 100'000 + 30'000);
  EXPECT_EQ(ideal.stats().bytes_read, 64u + 2560u);
  EXPECT_EQ(ideal.stats().bytes_written, 64u);
  EXPECT_EQ(ideal.stats().channel_busy_ps[0], 2'500 + 2'500 + 100'000);
  const BandwidthResult r = measure_bandwidth(*dram_preset("ideal"), BandwidthProbe{});
  EXPECT_NEAR(r.gbps, 25.6, 0.01);
}

TEST(DramModel, StridedAccessEqualsItsRowsInTurn) {
  DramController strided(*dram_preset("ddr4-3200"));
  DramController rows(*dram_preset("ddr4-3200"));
  const std::int64_t a = strided.access_strided(4096, 256, 8, 65536, false, 1000);
  std::int64_t b = 0;
  for (int r = 0; r < 8; ++r) b = std::max(b, rows.access(4096 + 65536u * r, 256, false, 1000));
  EXPECT_EQ(a, b);
  EXPECT_EQ(strided.stats().read_bursts, 32u);
  EXPECT_EQ(strided.stats().bytes_read, 2048u);
}

}  // namespace
}  // namespace npusim
