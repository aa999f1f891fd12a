// The DRAM timing model: a memory controller as they are built, over
// channels, ranks, bank groups and banks, issuing ACT/PRE/RD/WR/REF under the
// JEDEC rules of accel/memory/dram_timing_rules.h.
//
// Per channel (channels are independent and each keeps its own clock):
//  - Requests are split into bursts. A burst reaches the controller
//    `frontend_latency_cycles` after it arrives.
//  - Reads wait in the transaction queue (transaction_queue_depth); writes are
//    posted: a write completes as it enters the write buffer
//    (write_buffer_depth), and a read of a buffered write is served from it.
//  - Transactions move in order into command queues per bank or per rank
//    (command_queue_depth each). Writes move only while the buffer drains: from
//    the high watermark down to the low one, or while no read waits.
//  - Each cycle the scheduler (fcfs / frfcfs / frfcfs_cap) picks among the
//    commands whose timing rules are met; the command bus carries one command
//    per cycle (commands_per_cycle 2: one row and one column command, HBM).
//  - Page policy open / closed / adaptive decides when a row is auto-precharged.
//  - A rank whose refresh falls due (tREFI, ranks staggered) takes no new
//    commands; its open banks are precharged and REF issues, blocking it tRFC.
//    With refresh_mode per_bank a REFpb falls due every tREFIpb for the next
//    bank (or bank pair) of the rank in turn: only that bank stops taking
//    commands, is precharged, and is blocked tRFCpb; the others carry on.
// Event-driven: the clock jumps to the next cycle at which a command can issue
// or a burst arrives, so idle and waiting cycles cost nothing; and a step
// evaluates only the per-bank candidates whose ready bound has come
// (DramCandidates), not every queue.
//
// Two ways in. access() (the DramModel contract) is blocking: it runs the
// channel until the request is complete, so a later call cannot overtake it
// but can use everything it left. submit() + next_completion() keep many
// requests in flight, as a closed-loop traffic generator does (dram-bench).
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <queue>
#include <unordered_map>
#include <vector>

#include "accel/memory/dram_address.h"
#include "accel/memory/dram_candidates.h"
#include "accel/memory/dram_model.h"
#include "accel/memory/dram_timing_rules.h"

namespace npusim {

// One issued command, for tests and traces. Auto-precharges (closed and
// adaptive page policies) are logged as PRE at the cycle they take effect.
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

  // Non-blocking: the request joins its channels' queues at `arrival_ps` (or
  // the channel's clock, if that is later); its completion is reported by
  // next_completion().
  RequestId submit(std::uint64_t address, std::uint64_t bytes, bool is_write, std::int64_t arrival_ps) override;
  // Simulates until the earliest completion that no request submitted from
  // now on, at or after it, could precede; nullopt when nothing is in flight.
  std::optional<Completion> next_completion() override;

  const DramStats& stats() const override { return stats_; }
  const DramConfig& config() const override { return config_; }
  const AddressMapper& mapper() const { return mapper_; }

  // The timing rules alone, as Ramulator's check_ready / update_timing: may
  // `command` go to `where` at `cycle` (bus and queues aside), and record one
  // as issued there (updates the row state too). For rule tests.
  bool rules_allow(DramCommand command, const DramAddress& where, std::int64_t cycle) const;
  void record_command(DramCommand command, const DramAddress& where, std::int64_t cycle);

  // Appends every command issued from now on to `log` (nullptr: stop logging).
  void set_command_log(std::vector<DramCommandRecord>* log) { log_ = log; }

 private:
  using Cycle = std::int64_t;
  using Earliest = std::array<Cycle, kDramCommandCount>;  // per command: first legal cycle

  // Flat indices of the state a burst touches.
  struct Location {
    DramAddress where;
    int rank = 0;   // channel * ranks + rank
    int group = 0;  // rank * bank_groups + bank_group
    int bank = 0;   // group * banks_per_group + bank
  };

  struct Burst {
    Location at;
    std::uint64_t address = 0;  // first byte of the burst
    Cycle enter = 0;            // reaches the controller
    std::uint64_t seq = 0;      // age: lower is older
    RequestId request = 0;
    bool is_write = false;
  };

  struct Request {
    Cycle done = 0;
    int remaining = 0;    // bursts not yet complete
    bool report = false;  // submit(): goes to next_completion()
  };

  struct BankState {
    Earliest earliest{};
    std::int64_t open_row = -1;       // -1: precharged
    int hits = 0;                     // column commands since the ACT
    bool conflict = false;            // the ACT followed a PRE that closed another row
    bool closed_by_conflict = false;  // the last PRE was for a request to another row
  };

  struct RankState {
    Earliest earliest{};
    std::array<Cycle, 4> recent_acts{};  // ring of the last four ACTs, for tFAW
    int oldest_act = 0;
    Cycle refresh_due = 0;
    bool refreshing = false;  // due: no new commands (per_bank: to refresh_bank's set) until REF has issued
    int refresh_bank = 0;  // per_bank: the next REFpb refreshes banks refresh_bank + j * banks / per_bank_refresh_banks
  };

  // Per-bank queues: the (at most two) entries of a queue the scheduler may
  // issue for next, as of the queue's last rebuild (see scan_queues). Queue q's
  // candidates are slots 2q (the oldest row hit; fcfs: the oldest entry) and
  // 2q + 1 (the oldest entry to another row) of ChannelState::candidates.
  struct QueueSummary {
    int bank = 0;  // the queue's bank and rank (flat indices)
    int rank = 0;
    std::array<int, 2> entry{-1, -1};  // per slot: the queue entry (-1: no candidate)
    std::array<int, 2> priority{2, 2};
  };

  // A candidate's last evaluation, reused while it still holds: the command
  // (fixed until its queue is rebuilt) and the cycle the timing rules allow it,
  // which stays exact while no rule has moved that command later anywhere in
  // its rank (rule_versions_; its own bank's changes rebuild the queue).
  struct Evaluation {
    Cycle rules_ready = 0;
    std::uint64_t version = 0;
    std::uint64_t seq = 0;
    int rank = 0;      // the queue's (flat index), and the slot's priority,
    int priority = 2;  // copied from its QueueSummary so a reuse reads nothing else
    DramCommand command = DramCommand::act;
    bool valid = false;
  };

  struct ChannelState {
    int index = 0;  // in channels_
    Earliest earliest{};
    Cycle now = 0;             // every cycle before it is settled
    Cycle refresh_due = 0;     // the earliest of its ranks' refresh_due
    int refreshing_ranks = 0;  // ranks with refreshing set
    Cycle row_bus_free = 0;
    Cycle column_bus_free = 0;
    std::deque<Burst> incoming;              // arrived, not yet in the controller
    std::deque<Burst> reads;                 // transaction queue
    std::deque<Burst> writes;                // write buffer, not yet in a command queue
    std::vector<std::vector<Burst>> queues;  // command queues
    std::vector<QueueSummary> summaries;     // per_bank: per queue, valid unless dirty
    std::vector<Evaluation> evaluations;     // per_bank: per candidate slot
    std::vector<char> dirty;
    std::vector<int> dirty_queues;  // per_bank: the queues with dirty set
    // per_bank: the candidates of every queue whose rank is not refreshing,
    // keyed by a lower bound of the cycle their command can issue.
    DramCandidates candidates;
    int queued_reads = 0;   // reads in command queues
    int held_writes = 0;    // writes in the buffer or a command queue
    int queued_writes = 0;  // writes in command queues
    enum class Drain { off, watermark, idle } drain = Drain::off;
    bool moved = true;                                // queues changed: refill the command queues
    std::unordered_map<std::uint64_t, int> buffered;  // burst address -> writes not yet issued
  };

  // The command the scheduler would issue for one queue entry.
  struct Choice {
    bool found = false;
    DramCommand command = DramCommand::act;
    Cycle ready = 0;
    int priority = 0;  // lower first: 0 refresh, 1 row hit, 2 other
    std::uint64_t seq = 0;
    int queue = -1;  // -1: a refresh command
    int entry = 0;
    Location at;
  };

  Location locate(const DramAddress& where) const;
  Location bank_location(int bank) const;  // row: the open one (or 0)
  Cycle earliest(DramCommand command, const Location& at) const;
  std::uint64_t& rule_version(int rank, DramCommand command) {
    return rule_versions_[static_cast<std::size_t>(rank * kDramCommandCount + static_cast<int>(command))];
  }
  Cycle bus_ready(const ChannelState& ch, DramCommand command) const;
  void apply_rules(DramCommand command, const Location& at, Cycle cycle);
  void log(DramCommand command, const Location& at, Cycle cycle);
  int queue_of(const Location& at) const;

  RequestId new_request(bool report);
  // Splits the request into bursts on their channels; returns the channels
  // (valid until the next call).
  const std::vector<int>& enqueue(RequestId id, std::uint64_t address, std::uint64_t bytes, bool is_write,
                                  Cycle arrival);
  void complete_burst(const Burst& burst, Cycle done);
  void advance_to(ChannelState& ch, Cycle cycle);
  void step(ChannelState& ch, Cycle limit);
  void admit(ChannelState& ch);
  void update_drain(ChannelState& ch);
  void fill_queues(ChannelState& ch);
  void consider(Choice& best, Cycle& next, const Choice& c, Cycle now) const;
  void scan_refresh(ChannelState& ch, Choice& best, Cycle& next);
  void scan_queues(ChannelState& ch, Choice& best, Cycle& next);
  void mark_dirty(ChannelState& ch, int queue);
  void rebuild_dirty_queues(ChannelState& ch);
  // Whether a bank of a rank (flat indices) is held for a refresh now.
  bool held_for_refresh(int rank, int bank) const;
  void set_refresh_candidates(ChannelState& ch, int rank, bool in);
  void scan_bank_refresh(ChannelState& ch, int rank, Choice& best, Cycle& next);
  void issue_bank_refresh(ChannelState& ch, const Choice& choice);
  void scan_rank_queues(ChannelState& ch, Choice& best, Cycle& next);
  void issue(ChannelState& ch, const Choice& choice);
  void issue_column(ChannelState& ch, const Choice& choice);
  void auto_precharge(ChannelState& ch, const Location& at, int queue);
  bool has_work(const ChannelState& ch) const;
  Cycle next_refresh_due(const ChannelState& ch) const;

  DramConfig config_;
  AddressMapper mapper_;
  TimingTable table_;
  int burst_cycles_ = 0;
  bool per_bank_refresh_ = false;
  int refresh_stride_ = 1;  // per_bank: banks per rank / banks one REFpb refreshes
  std::vector<BankState> banks_;
  std::vector<Earliest> groups_;
  std::vector<RankState> ranks_;
  std::vector<ChannelState> channels_;
  // Per rank and command: bumped whenever a rule of the bank-group, rank,
  // other-rank or channel scope (or tFAW) moves the command later in the rank.
  std::vector<std::uint64_t> rule_versions_;
  std::vector<Request> requests_;
  std::vector<RequestId> free_requests_;
  using Done = std::pair<Cycle, RequestId>;
  std::priority_queue<Done, std::vector<Done>, std::greater<>> completions_;
  std::vector<int> touched_;        // enqueue()'s channels
  std::vector<int> blocking_left_;  // per channel: bursts of the access() in progress
  std::uint64_t next_seq_ = 0;
  // Per-bank marks of one scan (stamp == scan_ means set in this scan).
  std::vector<std::uint64_t> hit_stamp_, conflict_stamp_, first_hit_stamp_, first_other_stamp_;
  std::uint64_t scan_ = 0;
  DramStats stats_;
  std::vector<DramCommandRecord>* log_ = nullptr;
};

}  // namespace npusim
