// Area of a configuration from the technology tables: PE area x array size,
// SRAM area by capacity.
#include "sim/energy/area_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "models/input_error.h"

namespace npusim {
namespace {

const std::string kTechDir = std::string(NPUSIM_SOURCE_DIR) + "/configs/tech/";

const EnergyTable& table45() {
  static const EnergyTable t = load_energy_table(kTechDir + "45nm.json");
  return t;
}

TEST(AreaModel, Int8PeArrayIsPeAreaTimesArraySize) {
  const MacFormat int8{NumberFormat::int8, NumberFormat::int8, AccumulatorFormat::int32, 1};
  const AreaBreakdown a = compute_area(32, 32, int8, SramCapacities{}, table45());
  // PE: 8b mult 282 + 32b add 137 + (8 + 8 + 8) register bits x 5.98 = 143.52,
  // plus a 32-bit accumulator register 32 x 5.98 = 191.36 -> 753.88 um2.
  EXPECT_DOUBLE_EQ(a.pe_um2, 282 + 137 + 143.52 + 191.36);
  // 32 x 32 PEs: 771,973.12 um2.
  EXPECT_DOUBLE_EQ(a.pe_array_mm2, 753.88 * 1024 * 1e-6);
  EXPECT_EQ(a.sram_mm2(), 0);
  EXPECT_EQ(a.total_mm2, a.pe_array_mm2);
  // 4 lanes: 4 x (282 + 137 + 143.52) + 191.36 per PE, on a 16 x 8 array.
  const MacFormat int8x4{NumberFormat::int8, NumberFormat::int8, AccumulatorFormat::int32, 4};
  const AreaBreakdown b = compute_area(16, 8, int8x4, SramCapacities{}, table45());
  EXPECT_DOUBLE_EQ(b.pe_um2, 4 * 562.52 + 191.36);
  EXPECT_DOUBLE_EQ(b.pe_array_mm2, (4 * 562.52 + 191.36) * 128 * 1e-6);
}

TEST(AreaModel, FormatsOrderAsTheirArithmetic) {
  auto pe = [](NumberFormat f, AccumulatorFormat acc, int lanes) {
    return compute_area(1, 1, MacFormat{f, f, acc, lanes}, SramCapacities{}, table45()).pe_um2;
  };
  // fp32: 7700 + 4184 + 96 x 5.98 + 32 x 5.98.
  EXPECT_DOUBLE_EQ(pe(NumberFormat::fp32, AccumulatorFormat::fp32, 1), 7700 + 4184 + 128 * 5.98);
  // Binary, 32 lanes: 32 x (XNOR 282/64 + popcount bit 137/32 + 3 register bits)
  // + the 32b add of the popcount and the accumulator register.
  EXPECT_DOUBLE_EQ(pe(NumberFormat::binary, AccumulatorFormat::int32, 32),
                   32 * (282.0 / 64 + 137.0 / 32 + 3 * 5.98) + 137 + 32 * 5.98);
  EXPECT_GT(pe(NumberFormat::fp32, AccumulatorFormat::fp32, 1), pe(NumberFormat::fp16, AccumulatorFormat::fp32, 1));
  EXPECT_GT(pe(NumberFormat::fp16, AccumulatorFormat::fp32, 1), pe(NumberFormat::int8, AccumulatorFormat::int32, 1));
  EXPECT_GT(pe(NumberFormat::int8, AccumulatorFormat::int32, 1), pe(NumberFormat::int4, AccumulatorFormat::int32, 1));
}

TEST(AreaModel, SramAreaByCapacity) {
  const auto& t = table45();
  // The CACTI points: 64 KB = 199,065 um2 and 128 KB = 429,746 um2.
  EXPECT_DOUBLE_EQ(sram_area_mm2(64 * 1024, t), 0.199065);
  EXPECT_DOUBLE_EQ(sram_area_mm2(128 * 1024, t), 0.429746);
  // Beyond: area per KB held at the 128 KB value: 256 x 3357.390625 um2.
  EXPECT_DOUBLE_EQ(sram_area_mm2(256 * 1024, t), 256 * 3357.390625 * 1e-6);
  EXPECT_EQ(sram_area_mm2(0, t), 0);

  const MacFormat int8{NumberFormat::int8, NumberFormat::int8, AccumulatorFormat::int32, 1};
  SramSet set;
  set.ifmap.capacity_bytes = 128 * 1024;
  set.weight.capacity_bytes = 64 * 1024;
  set.ofmap.capacity_bytes = 256 * 1024;
  ArrayConfig array;
  array.rows = 16;
  array.cols = 16;
  array.mac = int8;
  const AreaBreakdown a = compute_area(array, capacities_of(set), t);
  EXPECT_DOUBLE_EQ(a.sram_ifmap_mm2, 0.429746);
  EXPECT_DOUBLE_EQ(a.sram_weight_mm2, 0.199065);
  EXPECT_DOUBLE_EQ(a.total_mm2, 753.88 * 256 * 1e-6 + 0.429746 + 0.199065 + 256 * 3357.390625 * 1e-6);
}

TEST(AreaModel, PeakThroughputPerArea) {
  ArrayConfig array;
  array.rows = 32;
  array.cols = 32;
  array.mac = MacFormat{NumberFormat::int8, NumberFormat::int8, AccumulatorFormat::int32, 2};
  // 32 x 32 x 2 MACs x 2 operations x 1 GHz = 4.096 TOPS.
  EXPECT_DOUBLE_EQ(peak_tops(array, 1000), 4.096);
  // TPU v1: 256 x 256 x 2 x 700 MHz = 91.75 TOPS (the paper's "92 TOPS").
  ArrayConfig tpu;
  tpu.rows = 256;
  tpu.cols = 256;
  EXPECT_DOUBLE_EQ(peak_tops(tpu, 700), 91.7504);
  EXPECT_DOUBLE_EQ(tops_per_mm2(4.096, 2.048), 2);
  EXPECT_EQ(tops_per_mm2(1, 0), 0);
}

TEST(AreaModel, SevenNmPe) {
  const EnergyTable t7 = load_energy_table(kTechDir + "7nm.json");
  const MacFormat int8{NumberFormat::int8, NumberFormat::int8, AccumulatorFormat::int32, 1};
  // Every 45 nm logic area x 0.059: (282 + 137 + 56 x 5.98) x 0.059.
  EXPECT_NEAR(compute_area(1, 1, int8, SramCapacities{}, t7).pe_um2, (282 + 137 + 56 * 5.98) * 0.059, 1e-9);
  EXPECT_THROW(compute_area(1, 1, int8, SramCapacities{},
                            parse_energy_table(nlohmann::json::parse(R"({
    "format_version": 1, "name": "x", "node_nm": 45, "mac": {}, "pe_area": {},
    "sram": {"word_bits": 64, "energy": [{"kb": 8, "read_pj": 1, "write_pj": 1, "source": "s"}],
             "area": [{"kb": 8, "um2_per_kb": 1, "source": "s"}]},
    "dram": {}, "ppu_op": {"pj": 1, "source": "s"}, "register_transfer": {"pj_per_byte": 1, "source": "s"},
    "leakage": {"logic": {"mw_per_mm2": 1, "source": "s"}, "sram": {"mw_per_mm2": 1, "source": "s"}}
  })"),
                                               "x.json")),
               InputError);
}

}  // namespace
}  // namespace npusim
