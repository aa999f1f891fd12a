#include "accel/memory/dram_timing_rules.h"

#include <algorithm>

namespace npusim {

std::string_view to_string(DramCommand command) {
  switch (command) {
    case DramCommand::act: return "ACT";
    case DramCommand::pre: return "PRE";
    case DramCommand::rd: return "RD";
    case DramCommand::wr: return "WR";
    case DramCommand::ref: return "REF";
    case DramCommand::ref_pb: return "REFpb";
  }
  return "?";
}

std::vector<TimingRule> build_timing_rules(const DramConfig& config) {
  using C = DramCommand;
  using S = RuleScope;
  const DramTimingCycles& t = config.timing;
  const int burst = config.burst_cycles();  // tBURST = BL / beats per clock
  // Data of a write ends CWL + tDQSS + tBURST after the command; tWR and tWTR
  // count from there (tDQSS: the write strobe may trail WL by up to one clock).
  const int write_data_end = t.CWL + t.tDQSS + burst;
  // JEDEC read-to-write: RL + BL/2 - WL + 2 nCK (1 nCK write preamble, 1 nCK
  // for the bus to turn around).
  const int read_to_write = t.CL + burst + 2 - t.CWL;
  // Across ranks the read data must have left the bus plus the rank switch
  // before the other rank's write data starts CWL after its command.
  const int read_to_write_other_rank = t.CL + burst + t.tRTRS - t.CWL;
  // A read on another rank may start once this rank's write data has left the
  // bus plus the rank switch; the read's own CL counts towards that.
  const int write_to_read_other_rank = write_data_end + t.tRTRS - t.CL;

  std::vector<TimingRule> rules = {
      // Same bank: row cycle.
      {C::act, S::bank, C::act, t.tRC, "tRC"},
      {C::act, S::bank, C::pre, t.tRAS, "tRAS"},
      {C::act, S::bank, C::rd, t.tRCD, "tRCD"},
      {C::act, S::bank, C::wr, t.tRCD, "tRCD"},
      {C::act, S::bank, C::ref, t.tRC, "tRC"},
      {C::pre, S::bank, C::act, t.tRP, "tRP"},
      {C::pre, S::bank, C::ref, t.tRP, "tRP"},
      {C::rd, S::bank, C::pre, t.tRTP, "tRTP"},
      {C::wr, S::bank, C::pre, write_data_end + t.tWR, "CWL + tDQSS + tBURST + tWR"},
      // Same bank group.
      {C::act, S::bank_group, C::act, t.tRRD_L, "tRRD_L"},
      {C::rd, S::bank_group, C::rd, t.tCCD_L, "tCCD_L"},
      {C::wr, S::bank_group, C::wr, t.tCCD_L, "tCCD_L"},
      {C::wr, S::bank_group, C::rd, write_data_end + t.tWTR_L, "CWL + tDQSS + tBURST + tWTR_L"},
      // Same rank.
      {C::act, S::rank, C::act, t.tRRD_S, "tRRD_S"},
      {C::rd, S::rank, C::rd, t.tCCD_S, "tCCD_S"},
      {C::wr, S::rank, C::wr, t.tCCD_S, "tCCD_S"},
      {C::wr, S::rank, C::rd, write_data_end + t.tWTR_S, "CWL + tDQSS + tBURST + tWTR_S"},
      {C::ref, S::rank, C::act, t.tRFC, "tRFC"},
      {C::ref, S::rank, C::ref, t.tRFC, "tRFC"},
      {C::pre, S::rank, C::pre, t.tPPD, "tPPD"},
      {C::rd, S::rank, C::wr, read_to_write, "CL + tBURST + 2 - CWL"},
      // Other ranks on the channel: the data bus changes hands.
      {C::rd, S::other_ranks, C::rd, burst + t.tRTRS, "tBURST + tRTRS"},
      {C::wr, S::other_ranks, C::wr, burst + t.tRTRS, "tBURST + tRTRS"},
      {C::wr, S::other_ranks, C::rd, write_to_read_other_rank, "CWL + tDQSS + tBURST + tRTRS - CL"},
      {C::rd, S::other_ranks, C::wr, read_to_write_other_rank, "CL + tBURST + tRTRS - CWL"},
      // The whole channel: one data bus, one burst at a time.
      {C::rd, S::channel, C::rd, burst, "tBURST"},
      {C::wr, S::channel, C::wr, burst, "tBURST"},
      // Per-bank refresh: the bank must be closed (tRP after PRE, tRC after
      // ACT), is busy tRFCpb, and REFpb commands of a rank keep apart from
      // each other (tPBR2PBR) and from ACTs to other banks (tPBR2ACT), after
      // JESD209-4/-5 and Ramulator 2's LPDDR5 (nPBR2PBR, nPBR2ACT).
      {C::pre, S::bank, C::ref_pb, t.tRP, "tRP"},
      {C::act, S::bank, C::ref_pb, t.tRC, "tRC"},
      {C::ref_pb, S::bank, C::act, t.tRFCpb, "tRFCpb"},
      {C::ref_pb, S::bank, C::ref_pb, t.tRFCpb, "tRFCpb"},
      {C::ref_pb, S::rank, C::ref_pb, t.tPBR2PBR, "tPBR2PBR"},
      {C::ref_pb, S::rank, C::act, t.tPBR2ACT, "tPBR2ACT"},
      {C::act, S::rank, C::ref_pb, t.tPBR2ACT, "tPBR2ACT"},
  };
  std::erase_if(rules, [](const TimingRule& rule) { return rule.gap_cycles < 1; });
  return rules;
}

TimingTable::TimingTable(const DramConfig& config) : four_activate_window_cycles_(config.timing.tFAW) {
  for (const TimingRule& rule : build_timing_rules(config)) {
    auto& list = lists_[index(rule.preceding)][static_cast<int>(rule.scope)];
    auto same = std::find_if(list.begin(), list.end(), [&](const Entry& e) { return e.following == rule.following; });
    if (same == list.end()) {
      list.push_back({rule.following, rule.gap_cycles});
    } else {
      same->gap_cycles = std::max(same->gap_cycles, rule.gap_cycles);
    }
    if (rule.scope != RuleScope::other_ranks) {
      int& gap = same_bank_[index(rule.preceding)][index(rule.following)];
      gap = std::max(gap, rule.gap_cycles);
    }
  }
}

}  // namespace npusim
