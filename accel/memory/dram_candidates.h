// The scheduling candidates of one DRAM channel (per-bank command queues):
// fixed slots, each either due (its command may be ready now: evaluated every
// step), waiting (not before a known cycle) or out (no candidate, or its rank
// is refreshing; it keeps its bound). A step touches only the due slots and
// the waiting ones whose cycle has come.
//
// Waiting slots sit on a timing wheel: one list per cycle of the next
// kWheelCycles, a bit per list that is not empty, and an unsorted list for
// cycles beyond. Every operation is O(1) but release(), which is O(slots
// released + cycles passed / 64).
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <limits>
#include <vector>

namespace npusim {

class DramCandidates {
 public:
  using Cycle = std::int64_t;

  explicit DramCandidates(int slots = 0);

  // The due slots. evaluated() may reorder them: walk them from the back.
  const std::vector<int>& due() const { return due_; }
  bool any_waiting() const { return waiting_ > 0; }
  Cycle earliest_waiting() const;  // any_waiting() must hold

  // A new candidate in `slot` (or the old one changed): its ready cycle is
  // unknown, so it is due.
  void make_due(int slot) {
    if (state_[index(slot)] != State::due) {
      unlink(slot);  // before the bound changes: it finds the slot's list
      link_due(slot);
    }
    bound_[index(slot)] = -1;
  }
  // A due slot's command is ready at `ready`: it stays due if that is not
  // after `now`, else it waits until then.
  void evaluated(int slot, Cycle ready, Cycle now) {
    bound_[index(slot)] = ready;
    if (ready <= now) return;
    unlink(slot);
    link_waiting(slot, ready);
  }
  // No candidate in `slot` any more, or not for a while (see put_back).
  void take_out(int slot) { unlink(slot); }
  // Back from take_out() with the bound it had: due at the first release at
  // or after it.
  void put_back(int slot) {
    if (state_[index(slot)] == State::out) link_waiting(slot, bound_[index(slot)]);
  }
  // Every waiting slot whose cycle is at most `now` becomes due.
  void release(Cycle now);

 private:
  static constexpr int kWheelCycles = 512;  // a power of two, above most timing gaps
  static constexpr int kWords = kWheelCycles / 64;
  enum class State : std::uint8_t { out, due, wheel, far };

  static std::size_t index(int i) { return static_cast<std::size_t>(i); }
  static std::size_t bucket(Cycle c) { return static_cast<std::size_t>(c) & (kWheelCycles - 1); }
  void link_due(int slot);
  void link_waiting(int slot, Cycle cycle);
  void unlink(int slot);
  void release_bucket(std::size_t b);

  std::vector<Cycle> bound_;  // per slot: the ready cycle last evaluated (-1: not yet)
  std::vector<State> state_;
  std::vector<int> at_;           // due / far: position in due_ / far_
  std::vector<int> next_, prev_;  // wheel: neighbours in the cycle's list (-1: none)
  std::vector<int> due_;
  std::vector<int> far_;                  // waiting beyond the wheel
  std::array<int, kWheelCycles> head_{};  // per cycle of the wheel: first slot (-1: none)
  std::array<std::uint64_t, kWords> occupied_{};
  Cycle cursor_ = 0;  // the wheel holds cycles cursor_ .. cursor_ + kWheelCycles - 1
  int waiting_ = 0;   // on the wheel or far
};

inline DramCandidates::DramCandidates(int slots)
    : bound_(index(slots), -1),
      state_(index(slots), State::out),
      at_(index(slots), -1),
      next_(index(slots), -1),
      prev_(index(slots), -1) {
  head_.fill(-1);
}

inline void DramCandidates::link_due(int slot) {
  state_[index(slot)] = State::due;
  at_[index(slot)] = static_cast<int>(due_.size());
  due_.push_back(slot);
}

inline void DramCandidates::link_waiting(int slot, Cycle cycle) {
  ++waiting_;
  if (cycle < cursor_) cycle = cursor_;  // already come: due at the next release
  if (cycle >= cursor_ + kWheelCycles) {
    state_[index(slot)] = State::far;
    at_[index(slot)] = static_cast<int>(far_.size());
    far_.push_back(slot);
    return;
  }
  state_[index(slot)] = State::wheel;
  const std::size_t b = bucket(cycle);
  const int first = head_[b];
  prev_[index(slot)] = -1;
  next_[index(slot)] = first;
  if (first >= 0) prev_[index(first)] = slot;
  head_[b] = slot;
  occupied_[b / 64] |= std::uint64_t{1} << (b % 64);
}

inline void DramCandidates::unlink(int slot) {
  const State state = state_[index(slot)];
  state_[index(slot)] = State::out;
  if (state == State::out) return;
  if (state == State::due || state == State::far) {
    std::vector<int>& list = state == State::due ? due_ : far_;
    const int at = at_[index(slot)];
    const int last = list.back();
    list[index(at)] = last;
    at_[index(last)] = at;
    list.pop_back();
    if (state == State::far) --waiting_;
    return;
  }
  --waiting_;
  const int before = prev_[index(slot)];
  const int after = next_[index(slot)];
  if (after >= 0) prev_[index(after)] = before;
  if (before >= 0) {
    next_[index(before)] = after;
    return;
  }
  // The first of its list: find the list by the slot's cycle.
  const std::size_t b = bucket(std::max(bound_[index(slot)], cursor_));
  head_[b] = after;
  if (after < 0) occupied_[b / 64] &= ~(std::uint64_t{1} << (b % 64));
}

inline void DramCandidates::release_bucket(std::size_t b) {
  for (int slot = head_[b]; slot >= 0;) {
    const int after = next_[index(slot)];
    --waiting_;
    link_due(slot);
    slot = after;
  }
  head_[b] = -1;
  occupied_[b / 64] &= ~(std::uint64_t{1} << (b % 64));
}

inline void DramCandidates::release(Cycle now) {
  if (now < cursor_) return;
  // The wheel's cycles cursor_ .. now, word by word through the bitmap.
  const Cycle last = std::min(now, cursor_ + kWheelCycles - 1);
  for (Cycle c = cursor_; c <= last;) {
    const std::size_t b = bucket(c);
    const std::size_t word = b / 64;
    const int bits = static_cast<int>(std::min<Cycle>(64 - static_cast<Cycle>(b % 64), last - c + 1));
    const std::uint64_t span = bits == 64 ? ~std::uint64_t{0} : ((std::uint64_t{1} << bits) - 1) << (b % 64);
    for (std::uint64_t set = occupied_[word] & span; set != 0; set &= set - 1) {
      release_bucket(word * 64 + static_cast<std::size_t>(std::countr_zero(set)));
    }
    c += bits;
  }
  cursor_ = now + 1;
  // Slots beyond the wheel whose cycle has come, or now fits on it.
  for (std::size_t i = far_.size(); i-- > 0;) {
    const int slot = far_[i];
    const Cycle cycle = bound_[index(slot)];
    if (cycle >= cursor_ + kWheelCycles) continue;
    unlink(slot);
    if (cycle <= now) {
      link_due(slot);
    } else {
      link_waiting(slot, cycle);
    }
  }
}

inline DramCandidates::Cycle DramCandidates::earliest_waiting() const {
  Cycle best = std::numeric_limits<Cycle>::max();
  for (const int slot : far_) best = std::min(best, bound_[index(slot)]);
  // The first occupied cycle from cursor_ on, wrapping round the wheel.
  const std::size_t start = bucket(cursor_);
  for (int w = 0; w <= kWords; ++w) {
    const std::size_t word = (start / 64 + static_cast<std::size_t>(w)) % kWords;
    std::uint64_t set = occupied_[word];
    if (w == 0) set &= ~std::uint64_t{0} << (start % 64);
    if (w == kWords) set &= (std::uint64_t{1} << (start % 64)) - 1;
    if (set == 0) continue;
    const std::size_t b = word * 64 + static_cast<std::size_t>(std::countr_zero(set));
    const Cycle ahead = static_cast<Cycle>((b - start) & (kWheelCycles - 1));
    return std::min(best, cursor_ + ahead);
  }
  return best;
}

}  // namespace npusim
