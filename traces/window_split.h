// Spreads bytes moved over an interval across fixed time windows, in
// proportion to the time the interval spends in each, in whole bytes.
//
// Window k covers [k * window_ps, (k + 1) * window_ps). The bytes that have
// moved by time t are floor(bytes * (t - start) / (end - start)), so every
// window gets an integer, the parts add up to `bytes` exactly, and the split
// depends only on the interval and the grid (deterministic). A zero-length
// interval puts all its bytes in the window holding start_ps.
#pragma once

#include <cstdint>
#include <stdexcept>

namespace npusim {

// Bytes of a uniform transfer of `bytes` over [start_ps, end_ps) done by `t_ps`
// (start_ps <= t_ps <= end_ps, end_ps > start_ps).
std::int64_t bytes_done_by(std::int64_t start_ps, std::int64_t end_ps, std::int64_t bytes, std::int64_t t_ps);

// Throws std::invalid_argument unless 0 <= start_ps <= end_ps, bytes >= 0 and
// window_ps > 0.
void check_interval(std::int64_t start_ps, std::int64_t end_ps, std::int64_t bytes, std::int64_t window_ps);

// Calls add(window_index, window_bytes) for each window the interval overlaps,
// in time order, skipping windows that get 0 bytes.
template <typename Add>
void split_over_windows(std::int64_t start_ps, std::int64_t end_ps, std::int64_t bytes, std::int64_t window_ps,
                        Add&& add) {
  check_interval(start_ps, end_ps, bytes, window_ps);
  if (bytes == 0) return;
  if (end_ps == start_ps) {
    add(start_ps / window_ps, bytes);
    return;
  }
  const std::int64_t first = start_ps / window_ps;
  const std::int64_t last = (end_ps - 1) / window_ps;
  std::int64_t done = 0;
  for (std::int64_t w = first; w <= last; ++w) {
    const std::int64_t boundary = w == last ? end_ps : (w + 1) * window_ps;
    const std::int64_t done_next = bytes_done_by(start_ps, end_ps, bytes, boundary);
    if (done_next > done) add(w, done_next - done);
    done = done_next;
  }
}

// Index of the last window an interval touches (its start's for a zero-length one).
std::int64_t last_window_of(std::int64_t start_ps, std::int64_t end_ps, std::int64_t window_ps);

}  // namespace npusim
