#include "traces/window_split.h"

#include <string>

namespace npusim {

std::int64_t bytes_done_by(std::int64_t start_ps, std::int64_t end_ps, std::int64_t bytes, std::int64_t t_ps) {
  // 128-bit product: a multi-gigabyte transfer over a long run overflows 64 bits.
  const __int128 elapsed = t_ps - start_ps;
  const __int128 duration = end_ps - start_ps;
  return static_cast<std::int64_t>(static_cast<__int128>(bytes) * elapsed / duration);
}

void check_interval(std::int64_t start_ps, std::int64_t end_ps, std::int64_t bytes, std::int64_t window_ps) {
  if (window_ps <= 0) {
    throw std::invalid_argument("trace window must be positive, got " + std::to_string(window_ps) + " ps");
  }
  if (start_ps < 0 || end_ps < start_ps || bytes < 0) {
    throw std::invalid_argument("trace event with invalid interval [" + std::to_string(start_ps) + ", " +
                                std::to_string(end_ps) + ") ps or bytes " + std::to_string(bytes));
  }
}

std::int64_t last_window_of(std::int64_t start_ps, std::int64_t end_ps, std::int64_t window_ps) {
  return end_ps > start_ps ? (end_ps - 1) / window_ps : start_ps / window_ps;
}

}  // namespace npusim
