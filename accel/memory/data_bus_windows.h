// Bytes that crossed a memory's data bus, per fixed time window: the ground
// truth behind a peak-bandwidth figure. A transfer's issue-to-completion span
// is the wrong thing to spread its bytes over: many transfers are in flight
// at once and queue behind each other, so their spans overlap and the sum
// over a window exceeded the bus's peak (ResNet-18 on DDR4-3200 reported an
// 82 GB/s peak on a 25.6 GB/s channel). The memory model reports each burst
// when its data occupies the bus instead.
#pragma once

#include <cstdint>
#include <map>

namespace npusim {

class DataBusWindows {
 public:
  explicit DataBusWindows(std::int64_t window_ps) : window_ps_(window_ps < 1 ? 1 : window_ps) {}

  // `bytes` moved uniformly over [start_ps, end_ps) (a burst: a few ns).
  void add(std::int64_t start_ps, std::int64_t end_ps, std::int64_t bytes);

  void clear() { bytes_.clear(); }
  // Most bytes in any one window since the last clear().
  double peak_window_bytes() const;
  // Most bytes in any one window that overlaps [from_ps, to_ps).
  double peak_window_bytes(std::int64_t from_ps, std::int64_t to_ps) const;
  std::int64_t window_ps() const { return window_ps_; }

 private:
  std::int64_t window_ps_;
  std::map<std::int64_t, double> bytes_;  // window index -> bytes
};

}  // namespace npusim
