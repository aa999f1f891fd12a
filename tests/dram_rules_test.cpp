// Every timing rule, as Ramulator's tests do it: after the preceding commands,
// the following command is refused one cycle before its minimum gap and
// accepted at it (N-1 / N). Gaps are derived by hand from the datasheet values
// of the presets (accel/memory/dram_presets.cpp), not from the rule table:
// DDR4-3200: CL 22, CWL 16, tBURST 4 (BL8 / 2), tRCD 22, tRP 22, tRAS 52,
// tRC 74, tWR 24, tRTP 12, tWTR_S/L 4/12, tCCD_S/L 4/8, tRRD_S/L 4/8, tFAW 34,
// tRFC 560, tRTRS 1. LPDDR4-4266: CWL 18, tBURST 8 (BL16 / 2), tWR 39,
// tWTR 22, tPPD 4, tDQSS 1, tRP 39, tRC 129, and per-bank refresh (REFpb):
// tRFCpb 140 ns = 300 nCK, tPBR2PBR 90 ns = 193 nCK, tPBR2ACT = tRRD = 22.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "accel/memory/dram_controller.h"
#include "accel/memory/dram_presets.h"

namespace npusim {
namespace {

using C = DramCommand;

struct Step {
  C command;
  int rank, bank_group, bank;
  std::int64_t row;
  std::int64_t cycle;
};

struct RuleCase {
  std::string name;
  std::string preset;
  std::vector<Step> before;
  Step then;  // its cycle is the first legal one, N
};

DramAddress where(const Step& s) {
  DramAddress a;
  a.rank = s.rank;
  a.bank_group = s.bank_group;
  a.bank = s.bank;
  a.row = s.row;
  return a;
}

const std::vector<RuleCase>& cases() {
  static const std::vector<RuleCase> list = {
      {"tRCD: ACT to RD", "ddr4-3200", {{C::act, 0, 0, 0, 5, 0}}, {C::rd, 0, 0, 0, 5, 22}},
      {"tRCD: ACT to WR", "ddr4-3200", {{C::act, 0, 0, 0, 5, 0}}, {C::wr, 0, 0, 0, 5, 22}},
      {"tRAS: ACT to PRE", "ddr4-3200", {{C::act, 0, 0, 0, 5, 0}}, {C::pre, 0, 0, 0, 5, 52}},
      {"tRC: ACT to ACT, same bank", "ddr4-3200", {{C::act, 0, 0, 0, 5, 0}}, {C::act, 0, 0, 0, 6, 74}},
      {"tRP: PRE to ACT", "ddr4-3200", {{C::act, 0, 0, 0, 5, 0}, {C::pre, 0, 0, 0, 5, 100}}, {C::act, 0, 0, 0, 6, 122}},
      {"tRTP: RD to PRE", "ddr4-3200", {{C::act, 0, 0, 0, 5, 0}, {C::rd, 0, 0, 0, 5, 60}}, {C::pre, 0, 0, 0, 5, 72}},
      // CWL + tBURST + tWR = 16 + 4 + 24
      {"tWR: WR to PRE", "ddr4-3200", {{C::act, 0, 0, 0, 5, 0}, {C::wr, 0, 0, 0, 5, 60}}, {C::pre, 0, 0, 0, 5, 104}},
      {"tRRD_L: ACT to ACT, same group", "ddr4-3200", {{C::act, 0, 0, 0, 5, 0}}, {C::act, 0, 0, 1, 5, 8}},
      {"tRRD_S: ACT to ACT, other group", "ddr4-3200", {{C::act, 0, 0, 0, 5, 0}}, {C::act, 0, 1, 0, 5, 4}},
      // Four ACTs at 0, 4, 8, 12 in four groups: the fifth waits for 0 + tFAW.
      {"tFAW: fifth ACT",
       "ddr4-3200",
       {{C::act, 0, 0, 0, 5, 0}, {C::act, 0, 1, 0, 5, 4}, {C::act, 0, 2, 0, 5, 8}, {C::act, 0, 3, 0, 5, 12}},
       {C::act, 0, 0, 1, 5, 34}},
      {"tCCD_L: RD to RD, same group",
       "ddr4-3200",
       {{C::act, 0, 0, 0, 5, 0}, {C::act, 0, 0, 1, 5, 8}, {C::rd, 0, 0, 0, 5, 40}},
       {C::rd, 0, 0, 1, 5, 48}},
      {"tCCD_S: RD to RD, other group",
       "ddr4-3200",
       {{C::act, 0, 0, 0, 5, 0}, {C::act, 0, 1, 0, 5, 4}, {C::rd, 0, 0, 0, 5, 40}},
       {C::rd, 0, 1, 0, 5, 44}},
      {"tCCD_L: WR to WR, same group",
       "ddr4-3200",
       {{C::act, 0, 0, 0, 5, 0}, {C::act, 0, 0, 1, 5, 8}, {C::wr, 0, 0, 0, 5, 40}},
       {C::wr, 0, 0, 1, 5, 48}},
      {"tCCD_S: WR to WR, other group",
       "ddr4-3200",
       {{C::act, 0, 0, 0, 5, 0}, {C::act, 0, 1, 0, 5, 4}, {C::wr, 0, 0, 0, 5, 40}},
       {C::wr, 0, 1, 0, 5, 44}},
      // CWL + tBURST + tWTR_L = 16 + 4 + 12; tWTR_S: 16 + 4 + 4
      {"tWTR_L: WR to RD, same group",
       "ddr4-3200",
       {{C::act, 0, 0, 0, 5, 0}, {C::act, 0, 0, 1, 5, 8}, {C::wr, 0, 0, 0, 5, 40}},
       {C::rd, 0, 0, 1, 5, 72}},
      {"tWTR_S: WR to RD, other group",
       "ddr4-3200",
       {{C::act, 0, 0, 0, 5, 0}, {C::act, 0, 1, 0, 5, 4}, {C::wr, 0, 0, 0, 5, 40}},
       {C::rd, 0, 1, 0, 5, 64}},
      // CL + tBURST + 2 - CWL = 22 + 4 + 2 - 16 (preamble and turnaround)
      {"RD to WR, same rank",
       "ddr4-3200",
       {{C::act, 0, 0, 0, 5, 0}, {C::act, 0, 1, 0, 5, 4}, {C::rd, 0, 0, 0, 5, 40}},
       {C::wr, 0, 1, 0, 5, 52}},
      // tBURST + tRTRS = 4 + 1
      {"RD to RD, other rank",
       "ddr4-3200x2",
       {{C::act, 0, 0, 0, 5, 0}, {C::act, 1, 0, 0, 5, 4}, {C::rd, 0, 0, 0, 5, 40}},
       {C::rd, 1, 0, 0, 5, 45}},
      {"WR to WR, other rank",
       "ddr4-3200x2",
       {{C::act, 0, 0, 0, 5, 0}, {C::act, 1, 0, 0, 5, 4}, {C::wr, 0, 0, 0, 5, 40}},
       {C::wr, 1, 0, 0, 5, 45}},
      // CL + tBURST + tRTRS - CWL = 22 + 4 + 1 - 16
      {"RD to WR, other rank",
       "ddr4-3200x2",
       {{C::act, 0, 0, 0, 5, 0}, {C::act, 1, 0, 0, 5, 4}, {C::rd, 0, 0, 0, 5, 40}},
       {C::wr, 1, 0, 0, 5, 51}},
      {"tRFC: REF to ACT", "ddr4-3200", {{C::ref, 0, 0, 0, 0, 100}}, {C::act, 0, 2, 3, 5, 660}},
      {"tRP: PRE to REF", "ddr4-3200", {{C::act, 0, 0, 0, 5, 0}, {C::pre, 0, 0, 0, 5, 60}}, {C::ref, 0, 0, 0, 5, 82}},
      {"tPPD: PRE to PRE, same rank (LPDDR4)",
       "lpddr4-4266",
       {{C::act, 0, 0, 0, 5, 0}, {C::act, 0, 0, 1, 5, 22}, {C::pre, 0, 0, 0, 5, 200}},
       {C::pre, 0, 0, 1, 5, 204}},
      // CWL + tDQSS + tBURST + tWTR = 18 + 1 + 8 + 22
      {"tDQSS: WR to RD (LPDDR4)",
       "lpddr4-4266",
       {{C::act, 0, 0, 0, 5, 0}, {C::act, 0, 0, 1, 5, 22}, {C::wr, 0, 0, 0, 5, 100}},
       {C::rd, 0, 0, 1, 5, 149}},
      // CWL + tDQSS + tBURST + tWR = 18 + 1 + 8 + 39
      {"tDQSS: WR to PRE (LPDDR4)",
       "lpddr4-4266",
       {{C::act, 0, 0, 0, 5, 0}, {C::wr, 0, 0, 0, 5, 100}},
       {C::pre, 0, 0, 0, 5, 166}},
      {"tRFCpb: REFpb to ACT, same bank (LPDDR4)",
       "lpddr4-4266",
       {{C::ref_pb, 0, 0, 3, 0, 100}},
       {C::act, 0, 0, 3, 5, 400}},
      {"tPBR2ACT: REFpb to ACT, other bank (LPDDR4)",
       "lpddr4-4266",
       {{C::ref_pb, 0, 0, 3, 0, 100}},
       {C::act, 0, 0, 4, 5, 122}},
      {"tPBR2ACT: ACT to REFpb, other bank (LPDDR4)",
       "lpddr4-4266",
       {{C::act, 0, 0, 4, 5, 100}},
       {C::ref_pb, 0, 0, 3, 0, 122}},
      {"tPBR2PBR: REFpb to REFpb, other bank (LPDDR4)",
       "lpddr4-4266",
       {{C::ref_pb, 0, 0, 3, 0, 100}},
       {C::ref_pb, 0, 0, 4, 0, 293}},
      {"tRP: PRE to REFpb (LPDDR4)",
       "lpddr4-4266",
       {{C::act, 0, 0, 3, 5, 0}, {C::pre, 0, 0, 3, 5, 200}},
       {C::ref_pb, 0, 0, 3, 0, 239}},
      {"tRC: ACT to REFpb, same bank (LPDDR4)", "lpddr4-4266", {{C::act, 0, 0, 3, 5, 0}}, {C::ref_pb, 0, 0, 3, 0, 129}},
  };
  return list;
}

DramConfig config_of(const std::string& preset) {
  if (preset == "ddr4-3200x2") {
    DramConfig c = *dram_preset("ddr4-3200");
    c.ranks = 2;
    return c;
  }
  DramConfig c = *dram_preset(preset);
  c.channels = 1;
  return c;
}

TEST(DramRules, EachCommandIsRefusedOneCycleEarlyAndAcceptedOnTime) {
  for (const RuleCase& rule : cases()) {
    SCOPED_TRACE(rule.name);
    DramController dram(config_of(rule.preset));
    for (const Step& s : rule.before) dram.record_command(s.command, where(s), s.cycle);
    EXPECT_FALSE(dram.rules_allow(rule.then.command, where(rule.then), rule.then.cycle - 1));
    EXPECT_TRUE(dram.rules_allow(rule.then.command, where(rule.then), rule.then.cycle));
  }
}

}  // namespace
}  // namespace npusim
