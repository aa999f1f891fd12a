// Energy of a run from its counters: hand-computed tiny layers, exact.
#include "sim/energy/energy_model.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "models/input_error.h"

namespace npusim {
namespace {

const std::string kTechDir = std::string(NPUSIM_SOURCE_DIR) + "/configs/tech/";

const MacFormat kInt8{NumberFormat::int8, NumberFormat::int8, AccumulatorFormat::int32, 1};

// A table of binary fractions, so that every sum below is exact in double.
EnergyTable dyadic_table() {
  return parse_energy_table(nlohmann::json::parse(R"({
    "format_version": 1, "name": "dyadic", "node_nm": 45,
    "mac": {
      "int8_int8_int32": {"mult_pj": 0.25, "add_pj": 0.125, "source": "test"},
      "binary_binary_int32": {"mult_pj": 0.0625, "add_pj": 0.03125, "group_add_pj": 0.5, "source": "test"}
    },
    "pe_area": {},
    "sram": {"word_bits": 64,
             "energy": [{"kb": 8, "read_pj": 4, "write_pj": 8, "source": "test"},
                        {"kb": 32, "read_pj": 16, "write_pj": 32, "source": "test"}],
             "area": [{"kb": 8, "um2_per_kb": 1000, "source": "test"}]},
    "dram": {"ddr4": {"pj_per_bit": 2, "activation_pj": 64, "source": "test"}},
    "ppu_op": {"pj": 1.5, "source": "test"},
    "register_transfer": {"pj_per_byte": 0.25, "source": "test"},
    "leakage": {"logic": {"mw_per_mm2": 2, "source": "test"}, "sram": {"mw_per_mm2": 0.5, "source": "test"}}
  })"),
                            "dyadic.json");
}

// A 2x3 by 3x2 int8 GEMM (M = 2, K = 3, N = 2) on a 2x2 array, then its
// requantization in the post-processing unit.
EnergyCounters tiny_layer() {
  EnergyCounters c;
  MacCounter m;
  m.format = kInt8;
  m.macs = 2 * 3 * 2;  // 12
  m.pe_cycles_busy = 12;
  m.pe_cycles_idle = 4;
  c.macs.push_back(m);
  c.sram_ifmap = SramCounter{8 * 1024, 8, /*read*/ 6, /*write*/ 6};     // A: 2x3 bytes in and out
  c.sram_weight = SramCounter{32 * 1024, 16, /*read*/ 6, /*write*/ 6};  // W: 3x2 bytes
  c.sram_ofmap = SramCounter{8 * 1024, 8, /*read*/ 0, /*write*/ 4};     // out: 2x2 int8
  c.dram.push_back(DramCounter{"ddr4", /*read*/ 12, /*write*/ 4, /*activations*/ 2});
  c.ppu_element_ops = 4;
  c.operand_transfer_bytes = 10;
  c.psum_transfer_bytes = 6;
  c.run_time_ps = 1000;
  c.logic_area_mm2 = 0.5;
  c.sram_area_mm2 = 2;
  return c;
}

TEST(EnergyModel, TinyLayerByHandWithADyadicTable) {
  const EnergyTable table = dyadic_table();
  const EnergyBreakdown e = compute_energy(tiny_layer(), table, EnergyOptions{0.5});
  // MAC: 12 MACs x (0.25 + 0.125) = 4.5; group adds 0 for int8.
  EXPECT_EQ(e.mac_pj, 4.5);
  // Idle: 4 PE-cycles x 0.5 gating fraction x (1 lane x 0.375) = 0.75.
  EXPECT_EQ(e.pe_idle_pj, 0.75);
  // ifmap, 8 KB, 8-byte words (the table's 64 bits): ceil(6/8) = 1 read x 4 + 1 write x 8 = 12.
  EXPECT_EQ(e.sram_ifmap_pj, 12);
  // weight, 32 KB, 16-byte words = 2x the 64-bit energy: 1 read x 16 x 2 + 1 write x 32 x 2 = 96.
  EXPECT_EQ(e.sram_weight_pj, 96);
  // ofmap, 8 KB: ceil(4/8) = 1 write x 8 = 8.
  EXPECT_EQ(e.sram_ofmap_pj, 8);
  // DRAM: (12 + 4) bytes x 8 bits x 2 pJ = 256, plus 2 activations x 64 = 128 -> 384.
  EXPECT_EQ(e.dram_pj, 384);
  // PPU: 4 elements x 1.5 = 6.
  EXPECT_EQ(e.ppu_pj, 6);
  // Interconnect: (10 + 6) bytes x 0.25 = 4.
  EXPECT_EQ(e.interconnect_pj, 4);
  // Leakage: (0.5 mm2 x 2 + 2 mm2 x 0.5) mW = 2 mW over 1000 ps = 2e-3 W x 1e-9 s = 2 pJ.
  EXPECT_EQ(e.leakage_pj, 2);
  // 4.5 + 0.75 + 12 + 96 + 8 + 384 + 6 + 4 + 2 = 517.25.
  EXPECT_EQ(e.total_pj, 517.25);
  EXPECT_EQ(e.compute_pj(), 5.25);
  EXPECT_EQ(e.sram_pj(), 116);

  EXPECT_EQ(pj_per_mac(e, 12), 517.25 / 12);
  EXPECT_EQ(compute_pj_per_mac(e, 12), 5.25 / 12);
  // 517.25 pJ in 1000 ps = 0.51725 W.
  EXPECT_DOUBLE_EQ(average_power_mw(e.total_pj, 1000), 517.25);
  // 24 operations in 1 ns = 24 GOPS = 0.024 TOPS.
  EXPECT_DOUBLE_EQ(tops(12, 1000), 0.024);
  // 24 operations / 517.25 pJ = 24e12 / 517.25 operations per joule.
  EXPECT_DOUBLE_EQ(tops_per_watt(12, e.total_pj), 24 / 517.25);
  EXPECT_DOUBLE_EQ(tops_per_watt(12, e.total_pj), tops(12, 1000) / (average_power_mw(e.total_pj, 1000) / 1000));
  // One inference per ns = 1e9 per second; per watt: 1 / 517.25e-12 J.
  EXPECT_DOUBLE_EQ(inferences_per_second(1, 1000), 1e9);
  EXPECT_DOUBLE_EQ(inferences_per_second_per_watt(1, e.total_pj), 1e12 / 517.25);
  EXPECT_EQ(pj_per_mac(e, 0), 0);
  EXPECT_EQ(average_power_mw(e.total_pj, 0), 0);
}

TEST(EnergyModel, PerfectClockGatingChargesIdlePesNothing) {
  const EnergyBreakdown e = compute_energy(tiny_layer(), dyadic_table());
  EXPECT_EQ(e.pe_idle_pj, 0);
  EXPECT_EQ(e.total_pj, 517.25 - 0.75);
  EnergyCounters idle_only;
  idle_only.macs.push_back(MacCounter{kInt8, 0, 0, 0, 8});
  // No gating: each idle PE-cycle costs a busy one, 0.375.
  EXPECT_EQ(compute_energy(idle_only, dyadic_table(), EnergyOptions{1.0}).pe_idle_pj, 3);
  EXPECT_THROW(compute_energy(idle_only, dyadic_table(), EnergyOptions{1.5}), std::invalid_argument);
}

TEST(EnergyModel, XnorPopcountChargesOneAccumulatePerLaneGroup) {
  const MacFormat binary{NumberFormat::binary, NumberFormat::binary, AccumulatorFormat::int32, 8};
  EnergyCounters c;
  // M = 2, N = 2, K = 10 on 8 lanes: 40 MACs, 2 x 2 x ceil(10/8) = 8 accumulations.
  c.macs.push_back(MacCounter{binary, 40, 8, 0, 0});
  // 40 x (0.0625 + 0.03125) = 3.75; 8 x 0.5 = 4.
  EXPECT_EQ(compute_energy(c, dyadic_table()).mac_pj, 7.75);
  // Not given: ceil(40 / 8) = 5 accumulations -> 3.75 + 2.5.
  c.macs[0].lane_group_accumulations = 0;
  EXPECT_EQ(compute_energy(c, dyadic_table()).mac_pj, 6.25);
}

TEST(EnergyModel, TinyInt8LayerByHandWith45nmTable) {
  const EnergyTable table = load_energy_table(kTechDir + "45nm.json");
  // A 4x8 by 8x4 int8 GEMM: 128 MACs, 32 B of A, 32 B of W, 16 B of int8 output.
  EnergyCounters c;
  c.macs.push_back(MacCounter{kInt8, 128, 0, 0, 0});
  c.sram_ifmap = SramCounter{32 * 1024, 8, 32, 0};
  c.sram_weight = SramCounter{32 * 1024, 8, 32, 0};
  c.sram_ofmap = SramCounter{8 * 1024, 8, 0, 16};
  c.dram.push_back(DramCounter{"lpddr4", 64, 16, 0});
  c.ppu_element_ops = 16;
  const EnergyBreakdown e = compute_energy(c, table);
  // MAC: 128 x (8b mult 0.2 + 32b add 0.1) = 38.4 pJ.
  EXPECT_DOUBLE_EQ(e.mac_pj, 38.4);
  // SRAM 32 KB, 64-bit words: 32 B = 4 reads x 20 pJ = 80 (ifmap and weight each).
  EXPECT_DOUBLE_EQ(e.sram_ifmap_pj, 80);
  EXPECT_DOUBLE_EQ(e.sram_weight_pj, 80);
  // SRAM 8 KB: 16 B = 2 writes x 10 pJ (write taken equal to read) = 20.
  EXPECT_DOUBLE_EQ(e.sram_ofmap_pj, 20);
  // LPDDR4: 80 B = 640 bits x 8 pJ = 5120.
  EXPECT_DOUBLE_EQ(e.dram_pj, 5120);
  // PPU: 16 x (32b mult 3.1 + 32b add 0.1) = 51.2.
  EXPECT_DOUBLE_EQ(e.ppu_pj, 51.2);
  EXPECT_EQ(e.leakage_pj, 0);
  // 38.4 + 80 + 80 + 20 + 5120 + 51.2 = 5389.6 pJ; 42.10625 pJ/MAC, 0.3 compute-only.
  EXPECT_DOUBLE_EQ(e.total_pj, 5389.6);
  EXPECT_DOUBLE_EQ(pj_per_mac(e, 128), 5389.6 / 128);
  EXPECT_DOUBLE_EQ(compute_pj_per_mac(e, 128), 0.3);
}

TEST(EnergyModel, Fp32VersusInt8ComputeEnergyFollowsTheTable) {
  const EnergyTable t45 = load_energy_table(kTechDir + "45nm.json");
  const EnergyTable t7 = load_energy_table(kTechDir + "7nm.json");
  const MacFormat fp32{NumberFormat::fp32, NumberFormat::fp32, AccumulatorFormat::fp32, 1};
  EnergyCounters a, b;
  a.macs.push_back(MacCounter{fp32, 1000, 0, 0, 0});
  b.macs.push_back(MacCounter{kInt8, 1000, 0, 0, 0});
  EXPECT_DOUBLE_EQ(compute_energy(a, t45).mac_pj / compute_energy(b, t45).mac_pj, (3.7 + 0.9) / (0.2 + 0.1));
  EXPECT_DOUBLE_EQ(compute_energy(a, t7).mac_pj / compute_energy(b, t7).mac_pj, (1.31 + 0.38) / (0.07 + 0.03));
}

TEST(EnergyModel, BreakdownsAddUp) {
  const EnergyTable table = dyadic_table();
  EnergyBreakdown sum;
  sum += compute_energy(tiny_layer(), table);
  sum += compute_energy(tiny_layer(), table);
  EXPECT_EQ(sum.total_pj, 2 * (517.25 - 0.75));
  EXPECT_EQ(sum.dram_pj, 768);
}

TEST(EnergyModel, MissingEntriesAndImpossibleCounters) {
  const EnergyTable table = dyadic_table();
  EnergyCounters c;
  c.macs.push_back(MacCounter{MacFormat{NumberFormat::int4, NumberFormat::int4, AccumulatorFormat::int32, 1}, 1});
  try {
    compute_energy(c, table);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "dyadic.json: $.mac.int4_int4_int32: missing (needed for W4A4)");
  }
  EnergyCounters d;
  d.dram.push_back(DramCounter{"hbm2", 64, 0, 0});
  try {
    compute_energy(d, table);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "dyadic.json: $.dram.hbm2: missing (needed for DRAM type hbm2)");
  }
  EnergyCounters s;
  s.sram_weight = SramCounter{0, 16, 64, 0};
  EXPECT_THROW(compute_energy(s, table), std::invalid_argument);
  EnergyCounters t;
  t.run_time_ps = -1;
  EXPECT_THROW(compute_energy(t, table), std::invalid_argument);
}

}  // namespace
}  // namespace npusim
