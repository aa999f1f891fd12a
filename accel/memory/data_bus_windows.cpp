#include "accel/memory/data_bus_windows.h"

#include <algorithm>

namespace npusim {

void DataBusWindows::add(std::int64_t start_ps, std::int64_t end_ps, std::int64_t bytes) {
  if (bytes <= 0) return;
  if (end_ps <= start_ps) {
    bytes_[start_ps / window_ps_] += static_cast<double>(bytes);
    return;
  }
  const double per_ps = static_cast<double>(bytes) / static_cast<double>(end_ps - start_ps);
  for (std::int64_t w = start_ps / window_ps_; w * window_ps_ < end_ps; ++w) {
    const std::int64_t lo = std::max(start_ps, w * window_ps_);
    const std::int64_t hi = std::min(end_ps, (w + 1) * window_ps_);
    bytes_[w] += per_ps * static_cast<double>(hi - lo);
  }
}

double DataBusWindows::peak_window_bytes() const {
  double peak = 0.0;
  for (const auto& [window, bytes] : bytes_) peak = std::max(peak, bytes);
  return peak;
}

}  // namespace npusim

namespace npusim {

double DataBusWindows::peak_window_bytes(std::int64_t from_ps, std::int64_t to_ps) const {
  double peak = 0.0;
  if (to_ps <= from_ps) return peak;
  for (auto it = bytes_.lower_bound(from_ps / window_ps_); it != bytes_.end() && it->first * window_ps_ < to_ps; ++it) {
    peak = std::max(peak, it->second);
  }
  return peak;
}

}  // namespace npusim
