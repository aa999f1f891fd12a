// The DRAM timing model: a memory controller with an open-page policy over
// channels, ranks, bank groups and banks, issuing ACT/PRE/RD/WR/REF under the
// JEDEC rules of accel/memory/dram_timing_rules.h.
//
// Scheduling, per burst and in call order (O(1) per burst, no per-cycle ticks):
//  1. The burst enters its channel's queue at max(arrival, column command of the
//     burst queue_depth ahead of it).
//  2. Row commands (PRE on a conflict, ACT when the bank is not open on the row)
//     issue as early as the rules allow from there on, so activations of queued
//     bursts overlap the data of earlier ones (bank-level parallelism).
//  3. The column command (RD/WR) issues after the previous one on the channel:
//     data leaves in FCFS order and the row stays open afterwards.
//  4. A rank refreshes when a burst would issue a command at or after its due
//     time: every open bank is precharged, REF issues, the rank is blocked for
//     tRFC, and the next refresh falls due tREFI after the previous one.
// The command bus is not modeled as a resource (one command per cycle is only
// enforced between column commands).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "accel/memory/dram_address.h"
#include "accel/memory/dram_model.h"
#include "accel/memory/dram_timing_rules.h"

namespace npusim {

// One issued command, for tests and traces. A run of back-to-back refreshes
// while a rank idles is logged as one REF at the last of them.
struct DramCommandRecord {
  std::int64_t cycle = 0;
  DramCommand command = DramCommand::act;
  DramAddress where;  // REF: channel and rank only
};

class DramController final : public DramModel {
 public:
  // Throws std::invalid_argument with validate()'s message for a bad config.
  explicit DramController(const DramConfig& config);

  std::int64_t access(std::uint64_t address, std::uint64_t bytes, bool is_write, std::int64_t arrival_ps) override;

  const DramStats& stats() const override { return stats_; }
  const DramConfig& config() const override { return config_; }
  const AddressMapper& mapper() const { return mapper_; }

  // Appends every command issued from now on to `log` (nullptr: stop logging).
  void set_command_log(std::vector<DramCommandRecord>* log) { log_ = log; }

 private:
  using Cycle = std::int64_t;
  using Earliest = std::array<Cycle, kDramCommandCount>;  // per command: first legal cycle

  enum class RowOutcome { hit, miss, conflict };

  // Flat indices of the state a burst touches.
  struct Location {
    DramAddress where;
    int rank = 0;   // channel * ranks + rank
    int group = 0;  // rank * bank_groups + bank_group
    int bank = 0;   // group * banks_per_group + bank
  };

  struct BurstPlan {
    RowOutcome outcome = RowOutcome::hit;
    Cycle pre = -1;  // -1: not needed
    Cycle act = -1;
    Cycle column = 0;
  };

  struct BankState {
    Earliest earliest{};
    std::int64_t open_row = -1;  // -1: precharged
  };

  struct RankState {
    Earliest earliest{};
    std::array<Cycle, 4> recent_acts{};  // ring of the last four ACTs, for tFAW
    int oldest_act = 0;
    Cycle refresh_due = 0;
  };

  struct ChannelState {
    Earliest earliest{};
    std::vector<Cycle> column_ring;  // column cycles of the last queue_depth bursts
    std::size_t ring_head = 0;       // the oldest of them
  };

  Location locate(const DramAddress& where) const;
  Cycle earliest(DramCommand command, const Location& at) const;
  BurstPlan plan(const Location& at, DramCommand column_command, Cycle enqueue) const;
  void issue(DramCommand command, const Location& at, Cycle cycle);
  void refresh_rank(const Location& at, Cycle idle_until);
  // Returns the cycle the burst's last data beat leaves the bus.
  Cycle schedule_burst(std::uint64_t address, bool is_write, Cycle arrival);

  DramConfig config_;
  AddressMapper mapper_;
  TimingTable table_;
  int burst_cycles_ = 0;
  std::vector<BankState> banks_;
  std::vector<Earliest> groups_;
  std::vector<RankState> ranks_;
  std::vector<ChannelState> channels_;
  DramStats stats_;
  std::vector<DramCommandRecord>* log_ = nullptr;
};

}  // namespace npusim
