#include "accel/memory/dram_presets.h"

#include <array>

namespace npusim {
namespace {
// The presets are data tables with a datasheet source per line, aligned by
// hand so the sources read as a column; clang-format would fold them.
// clang-format off

// Cycle counts are the ns minimums of the datasheet divided by tCK and rounded
// up (JEDEC nCK rounding); tREFI is a maximum and is rounded down.

// DDR4-3200AA (CL22-22-22), JESD79-4B speed bin and AC timing tables, for an
// 8 Gb x8 die (Micron MT40A1G8 -062E); eight dies form the x64 rank.
// Cross-checked with DRAMsim3 configs/DDR4_8Gb_x8_3200.ini and Ramulator2
// DDR4_3200AA.
DramConfig ddr4_3200() {
  DramConfig c;
  c.name = "ddr4-3200";
  c.channels = 1;
  c.ranks = 1;
  c.bank_groups = 4;       // x8 die: 4 bank groups of 4 banks
  c.banks_per_group = 4;
  c.rows = 65536;          // 8 Gb x8: 64 K rows
  c.columns = 1024;        // 1 KB page per x8 die, 8 KB per x64 rank
  c.bus_width_bits = 64;
  c.burst_length = 8;      // BL8, 8n prefetch
  c.transfers_per_clock = 2;
  c.tCK_ps = 625;          // tCK(avg) min 0.625 ns at 3200 MT/s
  DramTimingCycles& t = c.timing;
  t.CL = 22;               // CL 22 (3200AA bin: tAA 13.75 ns)
  t.CWL = 16;              // CWL 16, first CWL set at 3200 (1 tCK write preamble)
  t.tRCD = 22;             // 13.75 ns
  t.tRP = 22;              // 13.75 ns
  t.tRAS = 52;             // 32 ns
  t.tRC = 74;              // tRAS + tRP = 45.75 ns
  t.tWR = 24;              // 15 ns
  t.tRTP = 12;             // max(4 nCK, 7.5 ns)
  t.tWTR_S = 4;            // max(2 nCK, 2.5 ns)
  t.tWTR_L = 12;           // max(4 nCK, 7.5 ns)
  t.tCCD_S = 4;            // 4 nCK
  t.tCCD_L = 8;            // max(5 nCK, 5 ns)
  t.tRRD_S = 4;            // 1 KB page: max(4 nCK, 2.5 ns)
  t.tRRD_L = 8;            // 1 KB page: max(4 nCK, 4.9 ns)
  t.tFAW = 34;             // 1 KB page: max(20 nCK, 21 ns)
  t.tRFC = 560;            // tRFC1 of an 8 Gb die: 350 ns
  t.tREFI = 12480;         // 7.8 us (0-85 C)
  t.tRTRS = 1;             // rank switch, as DRAMsim3
  // Bank group bits right above the 64 B burst: a stream rotates over the four
  // groups and meets tCCD_S (4 nCK = tBURST) instead of tCCD_L (8 nCK).
  c.address_mapping = "RoBaRaCoBgCh";
  c.interleave_bytes = 64;
  return c;
}

// LPDDR4-4266, JESD209-4B, 16 Gb dual-channel die (8 Gb per x16 channel,
// Micron MT53E1G32D2 -046). The x64 interface is 4 independent x16 channels.
// Timings in nCK of the true clock 0.46875 ns; cross-checked with a DRAMSys
// LPDDR4-4266 memspec (RCD 39, RAS 90, RRD 22, FAW 86, RFCab 598, RL 36, WL 18).
DramConfig lpddr4_4266() {
  DramConfig c;
  c.name = "lpddr4-4266";
  c.channels = 4;
  c.ranks = 1;
  c.bank_groups = 1;       // no bank groups
  c.banks_per_group = 8;
  c.rows = 65536;          // 8 Gb channel / (8 banks * 2 KB)
  c.columns = 1024;        // 2 KB page on a x16 channel
  c.bus_width_bits = 16;
  c.burst_length = 16;     // BL16
  c.transfers_per_clock = 2;
  c.tCK_ps = 468;          // tCK(avg) min 0.468 ns (2133 MHz)
  DramTimingCycles& t = c.timing;
  t.CL = 36;               // RL 36 (DBI off)
  t.CWL = 18;              // WL 18 (set A)
  t.tRCD = 39;             // max(18 ns, 4 nCK)
  t.tRP = 39;              // tRPpb max(18 ns, 4 nCK)
  t.tRAS = 90;             // max(42 ns, 3 nCK)
  t.tRC = 129;             // tRAS + tRPpb
  t.tWR = 39;              // max(18 ns, 6 nCK)
  t.tRTP = 16;             // max(7.5 ns, 8 nCK)
  t.tWTR_S = 22;           // max(10 ns, 8 nCK)
  t.tWTR_L = 22;           // no bank groups: same as tWTR_S
  t.tCCD_S = 8;            // BL16 / 2
  t.tCCD_L = 8;
  t.tRRD_S = 22;           // max(10 ns, 4 nCK)
  t.tRRD_L = 22;
  t.tFAW = 86;             // 40 ns
  t.tRFC = 598;            // tRFCab, 8 Gb per channel: 280 ns
  t.tREFI = 8328;          // 3.904 us
  t.tRTRS = 1;
  t.tPPD = 4;              // PRE to PRE of one rank: 4 nCK
  t.tDQSS = 1;             // tDQSS max 1.25 tCK, rounded to the clock the data may trail
  t.tRFCpb = 300;          // 140 ns, 8 Gb per channel (refresh_mode per_bank)
  t.tREFIpb = 1042;        // tREFI / 8 banks = 488 ns, rounded down
  t.tPBR2PBR = 193;        // 90 ns between REFpb commands
  t.tPBR2ACT = 22;         // REFpb to ACT of another bank: tRRD (10 ns)
  c.address_mapping = "RoBaRaCoCh";
  c.interleave_bytes = 256;
  return c;
}

// LPDDR5-6400, JESD209-5, x16 channel with 8 Gb, bank-group mode (4 groups of
// 4 banks, BL16). CK is 800 MHz with a 4:1 WCK, so 8 beats per CK. Values as
// gem5 LPDDR5_6400_1x16_BG_BL16 (src/python/gem5/components/memory/
// dram_interfaces/lpddr5.py) and Ramulator2 LPDDR5_6400 where they agree
// (nRCD 15, nRAS 34, nWR 28, nRTP 4, nWTRS 5, nWTRL 10, nRRD 4, nFAW 16).
DramConfig lpddr5_6400() {
  DramConfig c;
  c.name = "lpddr5-6400";
  c.channels = 4;
  c.ranks = 1;
  c.bank_groups = 4;
  c.banks_per_group = 4;
  c.rows = 32768;          // 8 Gb channel / (16 banks * 2 KB)
  c.columns = 1024;        // 2 KB page in BG mode
  c.bus_width_bits = 16;
  c.burst_length = 16;     // BL16: 2 CK
  c.transfers_per_clock = 8;
  c.tCK_ps = 1250;         // CK 800 MHz
  DramTimingCycles& t = c.timing;
  t.CL = 17;               // RL 17 (21.25 ns, gem5)
  t.CWL = 9;               // WL set A at 6400 (JESD209-5); not cross-checked
  t.tRCD = 15;             // max(2 nCK, 18 ns)
  t.tRP = 15;              // tRPpb max(2 nCK, 18 ns)
  t.tRAS = 34;             // max(3 nCK, 42 ns)
  t.tRC = 49;              // tRAS + tRPpb
  t.tWR = 28;              // max(3 nCK, 34 ns)
  t.tRTP = 4;              // max(2 nCK, 7.5 ns) - 2 nCK
  t.tWTR_S = 5;            // max(4 nCK, 6.25 ns)
  t.tWTR_L = 10;           // max(4 nCK, 12 ns)
  t.tCCD_S = 2;            // BL16 in BG mode, other group
  t.tCCD_L = 4;            // 5 ns, same group
  t.tRRD_S = 4;            // max(2 nCK, 5 ns)
  t.tRRD_L = 4;
  t.tFAW = 16;             // 20 ns in BG mode
  t.tRFC = 168;            // tRFCab 8 Gb: 210 ns
  t.tREFI = 3124;          // 3.906 us
  t.tRTRS = 1;
  // Per-bank refresh in bank-group mode: one REFpb refreshes a bank pair (b, b + 8),
  // so 8 REFpb per tREFI (JESD209-5; Ramulator 2 LPDDR5 tables for 8 Gb).
  t.tRFCpb = 96;           // 120 ns
  t.tREFIpb = 390;         // tREFI / 8 = 488 ns, rounded down
  t.tPBR2PBR = 72;         // 90 ns
  t.tPBR2ACT = 7;          // 8 ns
  c.per_bank_refresh_banks = 2;
  // Bank groups below the channel bits: 32 B bursts rotate over the four
  // groups (tCCD_S = tBURST), then move to the next channel every 128 B.
  c.address_mapping = "RoBaRaCoChBg";
  c.interleave_bytes = 32;
  return c;
}

// HBM2 at 2 Gb/s per pin, JESD235A legacy mode: 8 x128 channels per stack, 4-high
// stack of 8 Gb dies (512 MB per channel). Timings as DRAMsim3
// configs/HBM2_8Gb_x128.ini (tCK 1 ns).
DramConfig hbm2() {
  DramConfig c;
  c.name = "hbm2";
  c.channels = 8;
  c.ranks = 1;
  c.bank_groups = 4;
  c.banks_per_group = 4;
  c.rows = 16384;          // 512 MB / (16 banks * 2 KB)
  c.columns = 128;         // 2 KB page on a 128-bit channel
  c.bus_width_bits = 128;
  c.burst_length = 4;      // BL4: 64 B per burst
  c.transfers_per_clock = 2;
  c.tCK_ps = 1000;         // 1 GHz
  DramTimingCycles& t = c.timing;
  t.CL = 14;
  t.CWL = 4;
  t.tRCD = 14;
  t.tRP = 14;
  t.tRAS = 34;
  t.tRC = 48;              // tRAS + tRP
  t.tWR = 16;
  t.tRTP = 4;              // tRTP_S
  t.tWTR_S = 6;
  t.tWTR_L = 8;
  t.tCCD_S = 1;            // the 2-cycle burst on the bus is the real limit
  t.tCCD_L = 2;
  t.tRRD_S = 4;
  t.tRRD_L = 6;
  t.tFAW = 30;
  t.tRFC = 260;            // 260 ns
  t.tREFI = 3900;          // 3.9 us
  t.tRTRS = 1;
  // Single-bank refresh (REFSB, JESD235A): each of the 16 banks once per tREFI.
  // Not cross-checked against a datasheet here.
  t.tRFCpb = 160;          // tRFCSB, 8 Gb die: 160 ns
  t.tREFIpb = 243;         // tREFI / 16, rounded down
  t.tPBR2PBR = 8;          // tRREFD: REFSB to REFSB of another bank
  t.tPBR2ACT = 8;          // tRREFD: REFSB to ACT of another bank
  // Row and column commands travel on separate buses (JESD235 2.x), so one of
  // each can issue per clock.
  c.controller.commands_per_cycle = 2;
  c.address_mapping = "RoBaRaCoCh";
  c.interleave_bytes = 256;
  return c;
}

// A fixed pipe for comparison with analytical tools (roofline, SCALE-Sim style):
// the DDR4-3200 peak and its idle read latency (tRCD + CL + tBURST = 30 ns).
DramConfig ideal() {
  DramConfig c;
  c.name = "ideal";
  c.kind = DramKind::ideal;
  c.ideal.bandwidth_gbps = 25.6;
  c.ideal.latency_ns = 30.0;
  c.ideal.capacity_bytes = std::uint64_t{8} << 30;
  return c;
}

struct Preset {
  std::string_view name;
  DramConfig (*make)();
};

constexpr std::array<Preset, 5> kPresets{{
    {"ddr4-3200", ddr4_3200},
    {"lpddr4-4266", lpddr4_4266},
    {"lpddr5-6400", lpddr5_6400},
    {"hbm2", hbm2},
    {"ideal", ideal},
}};

constexpr std::array<std::string_view, 5> kNames{"ddr4-3200", "lpddr4-4266", "lpddr5-6400", "hbm2", "ideal"};

// clang-format on
}  // namespace

std::optional<DramConfig> dram_preset(std::string_view name) {
  for (const Preset& preset : kPresets) {
    if (preset.name == name) return preset.make();
  }
  return std::nullopt;
}

std::span<const std::string_view> dram_preset_names() { return kNames; }

}  // namespace npusim
