#include "accel/memory/dram_controller.h"

#include <algorithm>
#include <limits>
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
constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max() / 4;

bool is_column(DramCommand c) { return c == DramCommand::rd || c == DramCommand::wr; }

}  // namespace

DramController::DramController(const DramConfig& config)
    : config_(checked(config)),
      mapper_(config_),
      table_(config_),
      burst_cycles_(config_.burst_cycles()),
      per_bank_refresh_(config_.refresh_mode == DramRefreshMode::per_bank),
      refresh_stride_(per_bank_refresh_ ? config_.banks_per_rank() / config_.per_bank_refresh_banks : 1) {
  const int ranks = config_.channels * config_.ranks;
  const int groups = ranks * config_.bank_groups;
  banks_.resize(static_cast<std::size_t>(groups) * config_.banks_per_group);
  groups_.resize(static_cast<std::size_t>(groups), Earliest{});
  ranks_.resize(static_cast<std::size_t>(ranks));
  rule_versions_.assign(static_cast<std::size_t>(ranks) * kDramCommandCount, 0);
  for (int r = 0; r < ranks; ++r) {
    RankState& rank = ranks_[r];
    rank.recent_acts.fill(kLongAgo);
    // Ranks of a channel take turns: rank k first refreshes (k+1)/ranks of the interval in.
    const int k = r % config_.ranks;
    const std::int64_t interval = per_bank_refresh_ ? config_.timing.tREFIpb : config_.timing.tREFI;
    rank.refresh_due = config_.refresh ? interval * (k + 1) / config_.ranks : kNever;
  }
  const bool per_bank = config_.controller.queue_structure == DramQueueStructure::per_bank;
  const int queues = per_bank ? config_.ranks * config_.banks_per_rank() : config_.ranks;
  channels_.resize(static_cast<std::size_t>(config_.channels));
  for (std::size_t c = 0; c < channels_.size(); ++c) {
    ChannelState& ch = channels_[c];
    ch.index = static_cast<int>(c);
    ch.refresh_due = next_refresh_due(ch);
    ch.queues.resize(static_cast<std::size_t>(queues));
    ch.summaries.resize(static_cast<std::size_t>(queues));
    ch.dirty.assign(static_cast<std::size_t>(queues), 0);
    ch.candidates = DramCandidates(2 * queues);
    ch.evaluations.resize(static_cast<std::size_t>(2 * queues));
    for (auto& q : ch.queues) q.reserve(static_cast<std::size_t>(config_.controller.command_queue_depth));
    if (!per_bank) continue;
    for (int qi = 0; qi < queues; ++qi) {  // queue_of() inverted
      QueueSummary& q = ch.summaries[static_cast<std::size_t>(qi)];
      q.bank = static_cast<int>(c) * queues + qi;
      q.rank = q.bank / config_.banks_per_rank();
    }
  }
  for (auto* stamps : {&hit_stamp_, &conflict_stamp_, &first_hit_stamp_, &first_other_stamp_}) {
    stamps->assign(banks_.size(), 0);
  }
  blocking_left_.assign(channels_.size(), 0);
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

DramController::Location DramController::bank_location(int bank) const {
  DramAddress where;
  const int group = bank / config_.banks_per_group;
  const int rank = group / config_.bank_groups;
  where.channel = rank / config_.ranks;
  where.rank = rank % config_.ranks;
  where.bank_group = group % config_.bank_groups;
  where.bank = bank % config_.banks_per_group;
  where.row = std::max<std::int64_t>(banks_[bank].open_row, 0);
  return locate(where);
}

int DramController::queue_of(const Location& at) const {
  if (config_.controller.queue_structure == DramQueueStructure::per_rank) return at.where.rank;
  return at.bank - at.where.channel * config_.ranks * config_.banks_per_rank();
}

inline DramController::Cycle DramController::earliest(DramCommand command, const Location& at) const {
  const int c = static_cast<int>(command);
  const RankState& rank = ranks_[at.rank];
  Cycle t = std::max(
      {banks_[at.bank].earliest[c], groups_[at.group][c], rank.earliest[c], channels_[at.where.channel].earliest[c]});
  if (command == DramCommand::act) {
    t = std::max(t, rank.recent_acts[rank.oldest_act] + table_.four_activate_window_cycles());
  }
  return t;
}

inline DramController::Cycle DramController::bus_ready(const ChannelState& ch, DramCommand command) const {
  if (config_.controller.commands_per_cycle == 1) return ch.row_bus_free;
  return is_column(command) ? ch.column_bus_free : ch.row_bus_free;
}

void DramController::apply_rules(DramCommand command, const Location& at, Cycle cycle) {
  const int channel = at.where.channel;
  const int first_rank = channel * config_.ranks;
  // Raises one first-legal cycle; outside the bank's own state a raise is
  // news to the cached evaluations of the rank's candidates for that command.
  const auto raise = [](Cycle& slot, Cycle ready, std::uint64_t* version) {
    if (ready <= slot) return;
    slot = ready;
    if (version != nullptr) ++*version;
  };
  for (const TimingTable::Entry& rule : table_.after(command, RuleScope::bank)) {
    raise(banks_[at.bank].earliest[static_cast<int>(rule.following)], cycle + rule.gap_cycles, nullptr);
  }
  for (const TimingTable::Entry& rule : table_.after(command, RuleScope::bank_group)) {
    raise(groups_[at.group][static_cast<int>(rule.following)], cycle + rule.gap_cycles,
          &rule_version(at.rank, rule.following));
  }
  for (const TimingTable::Entry& rule : table_.after(command, RuleScope::rank)) {
    raise(ranks_[at.rank].earliest[static_cast<int>(rule.following)], cycle + rule.gap_cycles,
          &rule_version(at.rank, rule.following));
  }
  for (const TimingTable::Entry& rule : table_.after(command, RuleScope::other_ranks)) {
    for (int r = first_rank; r < first_rank + config_.ranks; ++r) {
      if (r == at.rank) continue;
      raise(ranks_[r].earliest[static_cast<int>(rule.following)], cycle + rule.gap_cycles,
            &rule_version(r, rule.following));
    }
  }
  for (const TimingTable::Entry& rule : table_.after(command, RuleScope::channel)) {
    Cycle& slot = channels_[channel].earliest[static_cast<int>(rule.following)];
    const Cycle ready = cycle + rule.gap_cycles;
    if (ready <= slot) continue;
    slot = ready;
    for (int r = first_rank; r < first_rank + config_.ranks; ++r) ++rule_version(r, rule.following);
  }
  if (command == DramCommand::act) {
    RankState& rank = ranks_[at.rank];
    rank.recent_acts[rank.oldest_act] = cycle;
    rank.oldest_act = (rank.oldest_act + 1) & 3;  // ring of four
    ++rule_version(at.rank, DramCommand::act);    // the tFAW window moved
  }
  if (log_ != nullptr) log_->push_back({cycle, command, at.where});
}

DramController::RequestId DramController::new_request(bool report) {
  RequestId id = 0;
  if (free_requests_.empty()) {
    id = static_cast<RequestId>(requests_.size());
    requests_.emplace_back();
  } else {
    id = free_requests_.back();
    free_requests_.pop_back();
  }
  requests_[id] = Request{0, 0, report};
  return id;
}

const std::vector<int>& DramController::enqueue(RequestId id, std::uint64_t address, std::uint64_t bytes, bool is_write,
                                                Cycle arrival) {
  const auto burst_bytes = static_cast<std::uint64_t>(config_.burst_bytes());
  const std::uint64_t first = address / burst_bytes;
  const std::uint64_t last = first + (address % burst_bytes + bytes - 1) / burst_bytes;
  std::vector<int>& touched = touched_;
  touched.clear();
  for (std::uint64_t burst = first; burst <= last; ++burst) {
    Burst b;
    b.address = burst * burst_bytes;
    b.at = locate(mapper_.decode(b.address));
    const int c = b.at.where.channel;
    ChannelState& ch = channels_[c];
    if (std::find(touched.begin(), touched.end(), c) == touched.end()) {
      advance_to(ch, arrival);
      touched.push_back(c);
    }
    // The front end works while the channel is busy: it delays, not adds to, a late clock.
    b.enter = std::max(arrival + config_.controller.frontend_latency_cycles, ch.now);
    b.seq = next_seq_++;
    b.request = id;
    b.is_write = is_write;
    ch.incoming.push_back(b);
    ++requests_[id].remaining;
    if (!requests_[id].report) ++blocking_left_[c];
  }
  (is_write ? stats_.bytes_written : stats_.bytes_read) += bytes;
  return touched;
}

void DramController::complete_burst(const Burst& burst, Cycle done) {
  Request& r = requests_[burst.request];
  r.done = std::max(r.done, done);
  if (!r.report) --blocking_left_[burst.at.where.channel];
  if (--r.remaining == 0 && r.report) completions_.push({r.done, burst.request});
}

bool DramController::has_work(const ChannelState& ch) const {
  return !ch.incoming.empty() || !ch.reads.empty() || ch.queued_reads > 0 || ch.held_writes > 0;
}

DramController::Cycle DramController::next_refresh_due(const ChannelState& ch) const {
  const int first = ch.index * config_.ranks;
  Cycle due = kNever;
  for (int r = first; r < first + config_.ranks; ++r) due = std::min(due, ranks_[r].refresh_due);
  return due;
}

void DramController::advance_to(ChannelState& ch, Cycle cycle) {
  while (ch.now < cycle) {
    if (!has_work(ch) && ch.refresh_due >= cycle) {
      ch.now = cycle;
      break;
    }
    step(ch, cycle);
  }
}

void DramController::admit(ChannelState& ch) {
  const DramControllerConfig& k = config_.controller;
  while (!ch.incoming.empty() && ch.incoming.front().enter <= ch.now) {
    const Burst& b = ch.incoming.front();
    const bool buffered = !ch.buffered.empty() && ch.buffered.count(b.address) > 0;
    if (!b.is_write && buffered) {
      // The newest data is in the write buffer: no command needed.
      ++stats_.reads_from_write_buffer;
      complete_burst(b, ch.now + burst_cycles_);
    } else if (b.is_write && buffered) {
      complete_burst(b, ch.now);  // merges with the buffered write to the same burst
    } else if (!b.is_write) {
      if (static_cast<int>(ch.reads.size()) >= k.transaction_queue_depth) break;
      ch.reads.push_back(b);
      ch.moved = true;
    } else {
      if (ch.held_writes >= k.write_buffer_depth) break;
      ++ch.held_writes;
      ++ch.buffered[b.address];
      ch.writes.push_back(b);
      ch.moved = true;
      ++stats_.write_bursts;      // on entry, so a run's writes all count although the last may still be buffered
      complete_burst(b, ch.now);  // posted
    }
    ch.incoming.pop_front();
  }
}

void DramController::update_drain(ChannelState& ch) {
  const DramControllerConfig& k = config_.controller;
  using Drain = ChannelState::Drain;
  const bool reads_wait = !ch.reads.empty() || ch.queued_reads > 0;
  const Drain before = ch.drain;
  if (ch.held_writes >= k.write_high_watermark) {
    ch.drain = Drain::watermark;
  } else if (ch.drain == Drain::watermark && ch.held_writes > k.write_low_watermark) {
    // keep draining down to the low watermark
  } else if (!reads_wait && !ch.writes.empty()) {
    ch.drain = Drain::idle;
  } else {
    ch.drain = Drain::off;
  }
  if (ch.drain != before && ch.drain != Drain::off) ch.moved = true;
}

void DramController::fill_queues(ChannelState& ch) {
  ch.moved = false;
  const auto depth = static_cast<std::size_t>(config_.controller.command_queue_depth);
  const bool writes = ch.drain != ChannelState::Drain::off;
  // A watermark drain hands over only the writes that take the buffer down to
  // the low watermark; an idle drain all of them.
  const int write_quota = ch.drain == ChannelState::Drain::watermark
                              ? ch.held_writes - config_.controller.write_low_watermark
                              : config_.controller.write_buffer_depth;
  std::deque<Burst>& from = writes ? ch.writes : ch.reads;
  for (auto it = from.begin(); it != from.end();) {
    if (writes && ch.queued_writes >= write_quota) break;
    auto& queue = ch.queues[static_cast<std::size_t>(queue_of(it->at))];
    if (queue.size() < depth) {
      queue.push_back(*it);
      mark_dirty(ch, queue_of(it->at));
      ++(writes ? ch.queued_writes : ch.queued_reads);
      it = from.erase(it);
    } else {
      ++it;
    }
  }
}

void DramController::consider(Choice& best, Cycle& next, const Choice& c, Cycle now) const {
  next = std::min(next, c.ready);
  if (c.ready > now) return;
  if (!best.found || c.priority < best.priority || (c.priority == best.priority && c.seq < best.seq)) best = c;
}

bool DramController::held_for_refresh(int rank, int bank) const {
  const RankState& r = ranks_[static_cast<std::size_t>(rank)];
  if (!r.refreshing) return false;
  if (!per_bank_refresh_) return true;
  return (bank - rank * config_.banks_per_rank()) % refresh_stride_ == r.refresh_bank;
}

// Called only while a rank refreshes or one is due.
void DramController::scan_refresh(ChannelState& ch, Choice& best, Cycle& next) {
  const int first = ch.index * config_.ranks;
  for (int r = first; r < first + config_.ranks; ++r) {
    RankState& rank = ranks_[r];
    if (!rank.refreshing) {
      if (rank.refresh_due > ch.now) continue;
      rank.refreshing = true;
      ++ch.refreshing_ranks;
      set_refresh_candidates(ch, r, false);
    }
    if (per_bank_refresh_) {
      scan_bank_refresh(ch, r, best, next);
      continue;
    }
    // Close every open bank (PRE), then REF once the last is ready for it.
    const int banks = config_.banks_per_rank();
    Cycle ref_ready = std::max(rank.earliest[static_cast<int>(DramCommand::ref)], bus_ready(ch, DramCommand::ref));
    bool any_open = false;
    Location at;
    for (int b = r * banks; b < (r + 1) * banks; ++b) {
      at = bank_location(b);
      if (banks_[b].open_row >= 0) {
        any_open = true;
        Choice c{true,
                 DramCommand::pre,
                 std::max(earliest(DramCommand::pre, at), bus_ready(ch, DramCommand::pre)),
                 0,
                 0,
                 -1,
                 0,
                 at};
        consider(best, next, c, ch.now);
      } else {
        ref_ready = std::max(ref_ready, earliest(DramCommand::ref, at));
      }
    }
    if (!any_open) consider(best, next, Choice{true, DramCommand::ref, ref_ready, 0, 0, -1, 0, at}, ch.now);
  }
}

// Per-bank refresh: close the banks of the rank's refresh set (PRE), then
// REFpb once every one of them is ready for it. The choice names the set's
// first bank.
void DramController::scan_bank_refresh(ChannelState& ch, int rank, Choice& best, Cycle& next) {
  const int base = rank * config_.banks_per_rank() + ranks_[static_cast<std::size_t>(rank)].refresh_bank;
  Cycle ready = bus_ready(ch, DramCommand::ref_pb);
  bool any_open = false;
  for (int j = 0; j < config_.per_bank_refresh_banks; ++j) {
    const Location at = bank_location(base + j * refresh_stride_);
    if (banks_[static_cast<std::size_t>(at.bank)].open_row >= 0) {
      any_open = true;
      const Cycle pre_ready = std::max(earliest(DramCommand::pre, at), bus_ready(ch, DramCommand::pre));
      consider(best, next, Choice{true, DramCommand::pre, pre_ready, 0, 0, -1, 0, at}, ch.now);
    } else {
      ready = std::max(ready, earliest(DramCommand::ref_pb, at));
    }
  }
  if (!any_open) {
    consider(best, next, Choice{true, DramCommand::ref_pb, ready, 0, 0, -1, 0, bank_location(base)}, ch.now);
  }
}

void DramController::mark_dirty(ChannelState& ch, int queue) {
  if (config_.controller.queue_structure != DramQueueStructure::per_bank) return;
  char& dirty = ch.dirty[static_cast<std::size_t>(queue)];
  if (dirty) return;
  dirty = 1;
  ch.dirty_queues.push_back(queue);
}

// A queue changed (entries, or its bank's row or hit count): name its oldest
// row hit and oldest other entry again, and which of them the scheduler may
// issue for. Their ready cycles are unknown (bound -1) until evaluated. A
// queue of a refreshing rank waits until the REF has issued.
void DramController::rebuild_dirty_queues(ChannelState& ch) {
  const DramControllerConfig& k = config_.controller;
  const bool fcfs = k.scheduler == DramScheduler::fcfs;
  const bool capped = k.scheduler == DramScheduler::frfcfs_cap;
  std::size_t waiting = 0;
  for (const int qi : ch.dirty_queues) {
    QueueSummary& q = ch.summaries[static_cast<std::size_t>(qi)];
    if (held_for_refresh(q.rank, q.bank)) {
      ch.dirty_queues[waiting++] = qi;
      continue;
    }
    ch.dirty[static_cast<std::size_t>(qi)] = 0;
    const std::vector<Burst>& queue = ch.queues[static_cast<std::size_t>(qi)];
    const BankState& b = banks_[static_cast<std::size_t>(q.bank)];
    int first_hit = -1;
    int first_other = -1;
    for (std::size_t i = 0; i < queue.size(); ++i) {
      int& slot = queue[i].at.where.row == b.open_row ? first_hit : first_other;
      if (slot < 0) slot = static_cast<int>(i);
    }
    const bool conflict = b.open_row >= 0 && first_other >= 0;
    const bool cap_reached = capped && b.hits >= k.row_hit_cap && conflict;
    q.entry = {-1, -1};
    if (fcfs) {
      if (!queue.empty()) q.entry[0] = 0;
      q.priority[0] = 2;
    } else {
      if (first_hit >= 0 && !cap_reached) q.entry[0] = first_hit;
      // FR-FCFS keeps a row open while hits to it wait (until the cap).
      if (first_other >= 0 && (first_hit < 0 || b.open_row < 0 || cap_reached)) q.entry[1] = first_other;
      q.priority[0] = 1;
    }
    for (int slot = 0; slot < 2; ++slot) {
      Evaluation& ev = ch.evaluations[static_cast<std::size_t>(2 * qi + slot)];
      ev.valid = false;
      ev.rank = q.rank;
      ev.priority = q.priority[static_cast<std::size_t>(slot)];
      if (q.entry[static_cast<std::size_t>(slot)] >= 0) {
        ch.candidates.make_due(2 * qi + slot);
      } else {
        ch.candidates.take_out(2 * qi + slot);
      }
    }
  }
  ch.dirty_queues.resize(waiting);
}

// A rank that starts refreshing takes no commands (per_bank refresh: its
// refresh set's banks take none): their queues' candidates leave the heap,
// keeping their bounds, and come back after the REF (REFpb).
void DramController::set_refresh_candidates(ChannelState& ch, int rank, bool in) {
  if (config_.controller.queue_structure != DramQueueStructure::per_bank) return;
  const int banks = config_.banks_per_rank();
  const int first_bank = rank * banks;
  const int first_queue = first_bank - ch.index * config_.ranks * banks;  // queue_of() of the rank's first bank
  for (int b = 0; b < banks; ++b) {
    if (per_bank_refresh_ && b % refresh_stride_ != ranks_[static_cast<std::size_t>(rank)].refresh_bank) continue;
    const int qi = first_queue + b;
    const QueueSummary& q = ch.summaries[static_cast<std::size_t>(qi)];
    for (int slot = 0; slot < 2; ++slot) {
      const int id = 2 * qi + slot;
      if (!in) {
        ch.candidates.take_out(id);
      } else if (q.entry[static_cast<std::size_t>(slot)] >= 0) {
        // The refresh moved its bank's rules (REFpb: the set's banks only): evaluate afresh.
        ch.evaluations[static_cast<std::size_t>(id)].valid = false;
        ch.candidates.put_back(id);
      }
    }
  }
}

void DramController::scan_queues(ChannelState& ch, Choice& best, Cycle& next) {
  if (config_.controller.queue_structure == DramQueueStructure::per_rank) {
    scan_rank_queues(ch, best, next);
    return;
  }
  // Per-bank queues: every entry is for the queue's bank, so only a queue's
  // oldest hit and oldest other entry can be issued next (rebuild_dirty_queues).
  // Each candidate carries the ready cycle computed when it was last
  // evaluated: rules only ever push a command later, so while that bound lies
  // ahead the command cannot be ready. The candidates whose bound has come are
  // evaluated (all of them, as their new bounds decide when the next step
  // is); the rest cost nothing.
  rebuild_dirty_queues(ch);
  ch.candidates.release(ch.now);
  const std::vector<int>& due = ch.candidates.due();
  // The best ready candidate: lowest priority, then oldest (seq is unique).
  int best_id = -1;
  int best_priority = 0;
  std::uint64_t best_seq = 0;
  DramCommand best_command = DramCommand::act;
  for (std::size_t i = due.size(); i-- > 0;) {
    const int id = due[i];
    Evaluation& ev = ch.evaluations[static_cast<std::size_t>(id)];
    if (!ev.valid || ev.version != rule_version(ev.rank, ev.command)) {
      const QueueSummary& q = ch.summaries[static_cast<std::size_t>(id / 2)];
      const int entry = q.entry[static_cast<std::size_t>(id % 2)];
      const Burst& e = ch.queues[static_cast<std::size_t>(id / 2)][static_cast<std::size_t>(entry)];
      const std::int64_t open_row = banks_[static_cast<std::size_t>(q.bank)].open_row;
      ev.command = open_row == e.at.where.row ? (e.is_write ? DramCommand::wr : DramCommand::rd)
                   : open_row >= 0            ? DramCommand::pre
                                              : DramCommand::act;
      ev.rules_ready = earliest(ev.command, e.at);
      ev.version = rule_version(ev.rank, ev.command);
      ev.seq = e.seq;
      ev.valid = true;
    }
    const Cycle ready = std::max(ev.rules_ready, bus_ready(ch, ev.command));
    ch.candidates.evaluated(id, ready, ch.now);
    if (ready > ch.now) continue;
    if (best_id < 0 || ev.priority < best_priority || (ev.priority == best_priority && ev.seq < best_seq)) {
      best_id = id;
      best_priority = ev.priority;
      best_seq = ev.seq;
      best_command = ev.command;
    }
  }
  // A refresh command (priority 0) goes first.
  if (best_id >= 0 && !best.found) {
    const int qi = best_id / 2;
    const int entry = ch.summaries[static_cast<std::size_t>(qi)].entry[static_cast<std::size_t>(best_id % 2)];
    const Burst& e = ch.queues[static_cast<std::size_t>(qi)][static_cast<std::size_t>(entry)];
    best = Choice{true, best_command, ch.now, best_priority, e.seq, qi, entry, e.at};
  }
  // `next` matters only when no command issues this step: then it is the
  // first waiting candidate's cycle.
  if (!best.found && ch.candidates.any_waiting()) next = std::min(next, ch.candidates.earliest_waiting());
}

void DramController::scan_rank_queues(ChannelState& ch, Choice& best, Cycle& next) {
  const DramControllerConfig& k = config_.controller;
  const bool fcfs = k.scheduler == DramScheduler::fcfs;
  const bool capped = k.scheduler == DramScheduler::frfcfs_cap;
  ++scan_;
  for (std::size_t qi = 0; qi < ch.queues.size(); ++qi) {
    const std::vector<Burst>& queue = ch.queues[qi];
    if (queue.empty()) continue;
    for (const Burst& e : queue) {  // which banks have hits and conflicts waiting
      const std::int64_t open = banks_[e.at.bank].open_row;
      if (open == e.at.where.row) {
        hit_stamp_[e.at.bank] = scan_;
      } else if (open >= 0) {
        conflict_stamp_[e.at.bank] = scan_;
      }
    }
    for (std::size_t i = 0; i < queue.size(); ++i) {
      if (fcfs && i > 0) break;  // the oldest request of the queue only
      const Burst& e = queue[i];
      const int bank = e.at.bank;
      if (held_for_refresh(e.at.rank, bank)) continue;
      const BankState& b = banks_[bank];
      const bool cap_reached = capped && b.hits >= k.row_hit_cap && conflict_stamp_[bank] == scan_;
      DramCommand command;
      int priority = 2;
      if (b.open_row == e.at.where.row) {
        if (first_hit_stamp_[bank] == scan_ || cap_reached) continue;  // the oldest hit of the bank only
        first_hit_stamp_[bank] = scan_;
        command = e.is_write ? DramCommand::wr : DramCommand::rd;
        priority = fcfs ? 2 : 1;
      } else {
        if (first_other_stamp_[bank] == scan_) continue;
        first_other_stamp_[bank] = scan_;
        // FR-FCFS keeps a row open while hits to it wait (until the cap).
        if (b.open_row >= 0 && !fcfs && hit_stamp_[bank] == scan_ && !cap_reached) continue;
        command = b.open_row >= 0 ? DramCommand::pre : DramCommand::act;
      }
      const Cycle ready = std::max(earliest(command, e.at), bus_ready(ch, command));
      consider(best, next,
               Choice{true, command, ready, priority, e.seq, static_cast<int>(qi), static_cast<int>(i), e.at}, ch.now);
    }
  }
}

void DramController::step(ChannelState& ch, Cycle limit) {
  if (!ch.incoming.empty() && ch.incoming.front().enter <= ch.now) admit(ch);
  update_drain(ch);
  if (ch.moved) fill_queues(ch);
  Choice best;
  Cycle next = kNever;
  if (ch.refreshing_ranks > 0 || ch.refresh_due <= ch.now) scan_refresh(ch, best, next);
  scan_queues(ch, best, next);
  if (best.found) {
    issue(ch, best);
    // One command bus: nothing else this cycle. Two: try the other bus first.
    if (config_.controller.commands_per_cycle == 1) ++ch.now;
    return;
  }
  // A burst waiting for queue space gets in when a command frees it, not before.
  if (!ch.incoming.empty() && ch.incoming.front().enter > ch.now) next = std::min(next, ch.incoming.front().enter);
  next = std::min(next, ch.refresh_due);
  ch.now = std::max(ch.now + 1, std::min(next, limit));
}

void DramController::issue(ChannelState& ch, const Choice& choice) {
  const Cycle now = ch.now;
  if (config_.controller.commands_per_cycle == 1 || !is_column(choice.command)) {
    ch.row_bus_free = now + 1;
  }
  if (config_.controller.commands_per_cycle == 1 || is_column(choice.command)) ch.column_bus_free = now + 1;
  BankState& bank = banks_[choice.at.bank];
  mark_dirty(ch, queue_of(choice.at));
  switch (choice.command) {
    case DramCommand::pre:
      apply_rules(DramCommand::pre, choice.at, now);
      bank.open_row = -1;
      bank.closed_by_conflict = choice.queue >= 0;  // a demand PRE: the next ACT is a conflict
      ++stats_.precharges;
      break;
    case DramCommand::act:
      apply_rules(DramCommand::act, choice.at, now);
      bank.open_row = choice.at.where.row;
      bank.hits = 0;
      bank.conflict = bank.closed_by_conflict;
      bank.closed_by_conflict = false;
      ++stats_.activations;
      break;
    case DramCommand::ref: {
      apply_rules(DramCommand::ref, choice.at, now);
      RankState& rank = ranks_[choice.at.rank];
      rank.refreshing = false;
      rank.refresh_due += config_.timing.tREFI;
      --ch.refreshing_ranks;
      ch.refresh_due = next_refresh_due(ch);
      set_refresh_candidates(ch, choice.at.rank, true);
      ++stats_.refreshes;
      break;
    }
    case DramCommand::ref_pb: issue_bank_refresh(ch, choice); break;
    case DramCommand::rd:
    case DramCommand::wr: issue_column(ch, choice); break;
  }
}

// REFpb to the rank's refresh set (choice.at: its first bank). The rank-wide
// rules apply once; the other banks of a pair take the same-bank ones.
void DramController::issue_bank_refresh(ChannelState& ch, const Choice& choice) {
  apply_rules(DramCommand::ref_pb, choice.at, ch.now);
  for (int j = 1; j < config_.per_bank_refresh_banks; ++j) {
    BankState& bank = banks_[static_cast<std::size_t>(choice.at.bank + j * refresh_stride_)];
    for (const TimingTable::Entry& rule : table_.after(DramCommand::ref_pb, RuleScope::bank)) {
      Cycle& slot = bank.earliest[static_cast<int>(rule.following)];
      slot = std::max(slot, ch.now + rule.gap_cycles);
    }
  }
  RankState& rank = ranks_[static_cast<std::size_t>(choice.at.rank)];
  rank.refreshing = false;
  set_refresh_candidates(ch, choice.at.rank, true);  // before the set moves on
  rank.refresh_bank = (rank.refresh_bank + 1) % refresh_stride_;
  rank.refresh_due += config_.timing.tREFIpb;
  --ch.refreshing_ranks;
  ch.refresh_due = next_refresh_due(ch);
  ++stats_.bank_refreshes;
}

void DramController::issue_column(ChannelState& ch, const Choice& choice) {
  std::vector<Burst>& queue = ch.queues[static_cast<std::size_t>(choice.queue)];
  const Burst e = queue[static_cast<std::size_t>(choice.entry)];
  queue.erase(queue.begin() + choice.entry);
  apply_rules(choice.command, e.at, ch.now);
  BankState& bank = banks_[e.at.bank];
  if (bank.hits == 0) {
    ++(bank.conflict ? stats_.row_conflicts : stats_.row_misses);
  } else {
    ++stats_.row_hits;
  }
  ++bank.hits;
  if (e.is_write) {
    --ch.held_writes;
    --ch.queued_writes;
    auto it = ch.buffered.find(e.address);
    if (--it->second == 0) ch.buffered.erase(it);
  } else {
    --ch.queued_reads;
    ++stats_.read_bursts;
    complete_burst(e, ch.now + config_.timing.CL + burst_cycles_);
  }
  stats_.channel_busy_ps[e.at.where.channel] += std::int64_t{burst_cycles_} * config_.tCK_ps;
  // The burst's data is on the bus CL (read) or CWL (write) after the command.
  const Cycle data_start = ch.now + (e.is_write ? config_.timing.CWL : config_.timing.CL);
  record_data(data_start * config_.tCK_ps, (data_start + burst_cycles_) * config_.tCK_ps, config_.burst_bytes());
  ch.moved = true;
  auto_precharge(ch, e.at, choice.queue);
}

void DramController::auto_precharge(ChannelState& ch, const Location& at, int queue) {
  const DramPagePolicy policy = config_.controller.page_policy;
  if (policy == DramPagePolicy::open) return;
  bool hit_waits = false;
  bool other_waits = false;
  for (const Burst& e : ch.queues[static_cast<std::size_t>(queue)]) {
    if (e.at.bank != at.bank) continue;
    (e.at.where.row == at.where.row ? hit_waits : other_waits) = true;
  }
  if (hit_waits || (policy == DramPagePolicy::adaptive && !other_waits)) return;
  // RDA / WRA: the bank precharges itself as soon as the rules allow, without
  // a command of its own on the bus.
  mark_dirty(ch, queue);
  const Cycle when = earliest(DramCommand::pre, at);
  apply_rules(DramCommand::pre, at, when);
  BankState& bank = banks_[at.bank];
  bank.open_row = -1;
  bank.closed_by_conflict = other_waits;
  ++stats_.precharges;
}

bool DramController::rules_allow(DramCommand command, const DramAddress& where, std::int64_t cycle) const {
  return earliest(command, locate(where)) <= cycle;
}

void DramController::record_command(DramCommand command, const DramAddress& where, std::int64_t cycle) {
  const Location at = locate(where);
  apply_rules(command, at, cycle);
  if (command == DramCommand::act) banks_[at.bank].open_row = where.row;
  if (command == DramCommand::pre) banks_[at.bank].open_row = -1;
  mark_dirty(channels_[static_cast<std::size_t>(at.where.channel)], queue_of(at));
}

DramController::RequestId DramController::submit(std::uint64_t address, std::uint64_t bytes, bool is_write,
                                                 std::int64_t arrival_ps) {
  const RequestId id = new_request(true);
  const Cycle arrival = ceil_div(std::max<std::int64_t>(arrival_ps, 0), config_.tCK_ps);
  if (bytes == 0) {
    completions_.push({arrival, id});
    return id;
  }
  enqueue(id, address, bytes, is_write, arrival);
  return id;
}

std::optional<DramController::Completion> DramController::next_completion() {
  while (true) {
    ChannelState* slowest = nullptr;
    for (ChannelState& ch : channels_) {
      if (has_work(ch) && (slowest == nullptr || ch.now < slowest->now)) slowest = &ch;
    }
    if (!completions_.empty()) {
      const auto [done, id] = completions_.top();
      // Final once every busy channel has passed it: later completions can
      // only be later (a read's data follows its RD; a write completes on entry).
      if (slowest == nullptr || slowest->now >= done) {
        completions_.pop();
        free_requests_.push_back(id);
        return Completion{id, done * config_.tCK_ps};
      }
      step(*slowest, done);
      continue;
    }
    if (slowest == nullptr) return std::nullopt;
    step(*slowest, kNever);
  }
}

std::int64_t DramController::access(std::uint64_t address, std::uint64_t bytes, bool is_write,
                                    std::int64_t arrival_ps) {
  if (bytes == 0) return arrival_ps;
  // Commands issue on clock edges: the first edge at or after arrival.
  const Cycle arrival = ceil_div(std::max<std::int64_t>(arrival_ps, 0), config_.tCK_ps);
  const RequestId id = new_request(false);
  for (int c : enqueue(id, address, bytes, is_write, arrival)) {
    while (blocking_left_[static_cast<std::size_t>(c)] > 0) step(channels_[static_cast<std::size_t>(c)], kNever);
  }
  const Cycle done = requests_[id].done;
  free_requests_.push_back(id);
  return std::max(arrival_ps, done * config_.tCK_ps);
}

}  // namespace npusim
