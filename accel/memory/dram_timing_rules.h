// The JEDEC timing rules as data: (preceding command, scope) -> (following
// command, minimum gap in cycles), after DRAMsim3 src/timing.cc and Ramulator 2
// TimingConstraint. The controller walks these lists when it issues a command;
// no command has special-case timing code.
#pragma once

#include <array>
#include <span>
#include <string_view>
#include <vector>

#include "accel/memory/dram_config.h"

namespace npusim {

// ref_pb: per-bank refresh (REFpb; HBM2's REFSB), of one bank or bank pair.
enum class DramCommand : int { act, pre, rd, wr, ref, ref_pb };
inline constexpr int kDramCommandCount = 6;

// Which later commands a rule constrains, relative to the command that set it:
//  bank: the same bank; bank_group: any bank of its group; rank: any bank of its
//  rank; other_ranks: the other ranks on its channel; channel: every rank on its
//  channel (the shared data and command bus).
enum class RuleScope : int { bank, bank_group, rank, other_ranks, channel };
inline constexpr int kRuleScopeCount = 5;

std::string_view to_string(DramCommand command);

struct TimingRule {
  DramCommand preceding;
  RuleScope scope;
  DramCommand following;
  int gap_cycles;
  std::string_view name;  // the JEDEC parameter or formula it comes from
};

// The rule list of a validated config. Rules with a gap below one cycle are
// dropped (one command per cycle is the command bus's job, DramController).
std::vector<TimingRule> build_timing_rules(const DramConfig& config);

class TimingTable {
 public:
  struct Entry {
    DramCommand following;
    int gap_cycles;
  };

  explicit TimingTable(const DramConfig& config);

  std::span<const Entry> after(DramCommand preceding, RuleScope scope) const {
    return lists_[index(preceding)][static_cast<int>(scope)];
  }
  // Gap between two commands to the very same bank: the largest over every
  // scope that contains the bank (all but other_ranks).
  int same_bank_gap(DramCommand preceding, DramCommand following) const {
    return same_bank_[index(preceding)][index(following)];
  }
  // tFAW: at most four ACTs of a rank in any window this long. The one rule that
  // spans four commands rather than two.
  int four_activate_window_cycles() const { return four_activate_window_cycles_; }

 private:
  static int index(DramCommand c) { return static_cast<int>(c); }

  std::array<std::array<std::vector<Entry>, kRuleScopeCount>, kDramCommandCount> lists_;
  std::array<std::array<int, kDramCommandCount>, kDramCommandCount> same_bank_{};
  int four_activate_window_cycles_ = 0;
};

}  // namespace npusim
