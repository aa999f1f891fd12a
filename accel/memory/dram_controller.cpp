#include "accel/memory/dram_controller.h"

#include <algorithm>
#include <stdexcept>

namespace npusim {
namespace {

const DramConfig& checked(const DramConfig& config) {
  if (config.kind != DramKind::timing) throw std::invalid_argument("DramController needs a dram of kind timing");
  if (std::string error = validate(config); !error.empty()) throw std::invalid_argument(error);
  return config;
}

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

// Before any ACT, tFAW must not hold back the first four.
constexpr std::int64_t kLongAgo = -(std::int64_t{1} << 40);

}  // namespace

DramController::DramController(const DramConfig& config)
    : config_(checked(config)), mapper_(config_), table_(config_), burst_cycles_(config_.burst_cycles()) {
  const int ranks = config_.channels * config_.ranks;
  const int groups = ranks * config_.bank_groups;
  banks_.resize(static_cast<std::size_t>(groups) * config_.banks_per_group);
  groups_.resize(static_cast<std::size_t>(groups), Earliest{});
  ranks_.resize(static_cast<std::size_t>(ranks));
  for (int r = 0; r < ranks; ++r) {
    RankState& rank = ranks_[r];
    rank.recent_acts.fill(kLongAgo);
    // Ranks of a channel take turns: rank k first refreshes (k+1)/ranks of tREFI in.
    const int k = r % config_.ranks;
    rank.refresh_due = std::int64_t{config_.timing.tREFI} * (k + 1) / config_.ranks;
  }
  channels_.resize(static_cast<std::size_t>(config_.channels));
  for (ChannelState& channel : channels_) channel.column_ring.assign(static_cast<std::size_t>(config_.queue_depth), 0);
  stats_.channel_busy_ps.assign(static_cast<std::size_t>(config_.channels), 0);
}

DramController::Location DramController::locate(const DramAddress& where) const {
  Location at;
  at.where = where;
  at.rank = where.channel * config_.ranks + where.rank;
  at.group = at.rank * config_.bank_groups + where.bank_group;
  at.bank = at.group * config_.banks_per_group + where.bank;
  return at;
}

DramController::Cycle DramController::earliest(DramCommand command, const Location& at) const {
  const int c = static_cast<int>(command);
  const RankState& rank = ranks_[at.rank];
  Cycle t = std::max({banks_[at.bank].earliest[c], groups_[at.group][c], rank.earliest[c],
                      channels_[at.where.channel].earliest[c]});
  if (command == DramCommand::act) {
    t = std::max(t, rank.recent_acts[rank.oldest_act] + table_.four_activate_window_cycles());
  }
  return t;
}

DramController::BurstPlan DramController::plan(const Location& at, DramCommand column_command, Cycle enqueue) const {
  const BankState& bank = banks_[at.bank];
  BurstPlan p;
  Cycle column_floor = enqueue;
  if (bank.open_row != at.where.row) {
    Cycle act_floor = enqueue;
    if (bank.open_row >= 0) {
      p.outcome = RowOutcome::conflict;
      p.pre = std::max(enqueue, earliest(DramCommand::pre, at));
      act_floor = p.pre + table_.same_bank_gap(DramCommand::pre, DramCommand::act);
    } else {
      p.outcome = RowOutcome::miss;
    }
    p.act = std::max(act_floor, earliest(DramCommand::act, at));
    column_floor = p.act + table_.same_bank_gap(DramCommand::act, column_command);
  }
  p.column = std::max(column_floor, earliest(column_command, at));
  return p;
}

void DramController::issue(DramCommand command, const Location& at, Cycle cycle) {
  const int channel = at.where.channel;
  std::array<Earliest*, kRuleScopeCount> targets{&banks_[at.bank].earliest, &groups_[at.group],
                                                 &ranks_[at.rank].earliest, nullptr, &channels_[channel].earliest};
  for (int s = 0; s < kRuleScopeCount; ++s) {
    const auto scope = static_cast<RuleScope>(s);
    for (const TimingTable::Entry& rule : table_.after(command, scope)) {
      const int next = static_cast<int>(rule.following);
      const Cycle ready = cycle + rule.gap_cycles;
      if (scope == RuleScope::other_ranks) {
        const int first = channel * config_.ranks;
        for (int r = first; r < first + config_.ranks; ++r) {
          if (r != at.rank) ranks_[r].earliest[next] = std::max(ranks_[r].earliest[next], ready);
        }
      } else {
        Cycle& slot = (*targets[s])[next];
        slot = std::max(slot, ready);
      }
    }
  }
  if (command == DramCommand::act) {
    RankState& rank = ranks_[at.rank];
    rank.recent_acts[rank.oldest_act] = cycle;
    rank.oldest_act = (rank.oldest_act + 1) & 3;  // ring of four
  }
  if (log_ != nullptr) log_->push_back({cycle, command, at.where});
}

void DramController::refresh_rank(const Location& at, Cycle idle_until) {
  RankState& rank = ranks_[at.rank];
  const Cycle due = rank.refresh_due;
  const int tREFI = config_.timing.tREFI;

  // 1. Close every open bank of the rank (the PREA before REF).
  Cycle ref = due;
  const int first_group = at.rank * config_.bank_groups;
  for (int g = first_group; g < first_group + config_.bank_groups; ++g) {
    for (int b = g * config_.banks_per_group; b < (g + 1) * config_.banks_per_group; ++b) {
      Location bank_at = at;
      bank_at.group = g;
      bank_at.bank = b;
      bank_at.where.bank_group = g - first_group;
      bank_at.where.bank = b - g * config_.banks_per_group;
      if (banks_[b].open_row >= 0) {
        bank_at.where.row = banks_[b].open_row;
        issue(DramCommand::pre, bank_at, std::max(due, earliest(DramCommand::pre, bank_at)));
        banks_[b].open_row = -1;
        ++stats_.precharges;
      }
      // 2. REF waits for the last bank to be ready for it (tRP, tRC).
      ref = std::max(ref, earliest(DramCommand::ref, bank_at));
    }
  }
  issue(DramCommand::ref, at, ref);
  ++stats_.refreshes;
  Cycle next_due = due + tREFI;

  // 3. Refreshes falling due while the rank idles until the next request run
  //    back to back with every bank closed; count them in one step.
  if (idle_until >= next_due) {
    const Cycle extra = (idle_until - next_due) / tREFI + 1;
    const Cycle last = std::max(next_due + (extra - 1) * tREFI, ref + config_.timing.tRFC);
    issue(DramCommand::ref, at, last);
    stats_.refreshes += static_cast<std::uint64_t>(extra);
    next_due += extra * tREFI;
  }
  rank.refresh_due = next_due;
}

DramController::Cycle DramController::schedule_burst(std::uint64_t address, bool is_write, Cycle arrival) {
  const Location at = locate(mapper_.decode(address));
  ChannelState& channel = channels_[at.where.channel];
  const DramCommand column_command = is_write ? DramCommand::wr : DramCommand::rd;
  const Cycle enqueue = std::max(arrival, channel.column_ring[channel.ring_head]);

  BurstPlan p = plan(at, column_command, enqueue);
  while (config_.refresh && p.column >= ranks_[at.rank].refresh_due) {
    refresh_rank(at, enqueue);
    p = plan(at, column_command, enqueue);
  }

  if (p.pre >= 0) {
    Location open_at = at;
    open_at.where.row = banks_[at.bank].open_row;
    issue(DramCommand::pre, open_at, p.pre);
    ++stats_.precharges;
  }
  if (p.act >= 0) {
    issue(DramCommand::act, at, p.act);
    ++stats_.activations;
  }
  issue(column_command, at, p.column);
  banks_[at.bank].open_row = at.where.row;
  channel.column_ring[channel.ring_head] = p.column;
  if (++channel.ring_head == channel.column_ring.size()) channel.ring_head = 0;

  switch (p.outcome) {
    case RowOutcome::hit: ++stats_.row_hits; break;
    case RowOutcome::miss: ++stats_.row_misses; break;
    case RowOutcome::conflict: ++stats_.row_conflicts; break;
  }
  ++(is_write ? stats_.write_bursts : stats_.read_bursts);
  stats_.channel_busy_ps[at.where.channel] += std::int64_t{burst_cycles_} * config_.tCK_ps;
  const int latency = is_write ? config_.timing.CWL : config_.timing.CL;
  return p.column + latency + burst_cycles_;
}

std::int64_t DramController::access(std::uint64_t address, std::uint64_t bytes, bool is_write,
                                    std::int64_t arrival_ps) {
  if (bytes == 0) return arrival_ps;
  const auto burst_bytes = static_cast<std::uint64_t>(config_.burst_bytes());
  // Commands issue on clock edges: the first edge at or after arrival.
  const Cycle arrival = ceil_div(std::max<std::int64_t>(arrival_ps, 0), config_.tCK_ps);
  Cycle done = arrival;
  const std::uint64_t first = address / burst_bytes;
  const std::uint64_t last = first + (address % burst_bytes + bytes - 1) / burst_bytes;
  for (std::uint64_t burst = first; burst <= last; ++burst) {
    done = std::max(done, schedule_burst(burst * burst_bytes, is_write, arrival));
  }
  (is_write ? stats_.bytes_written : stats_.bytes_read) += bytes;
  return std::max(arrival_ps, done * config_.tCK_ps);
}

}  // namespace npusim
