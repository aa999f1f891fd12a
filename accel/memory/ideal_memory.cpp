#include "accel/memory/ideal_memory.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace npusim {
namespace {

const DramConfig& checked(const DramConfig& config) {
  if (config.kind != DramKind::ideal) throw std::invalid_argument("IdealMemory needs a dram of kind ideal");
  if (std::string error = validate(config); !error.empty()) throw std::invalid_argument(error);
  return config;
}

}  // namespace

IdealMemory::IdealMemory(const DramConfig& config)
    : config_(checked(config)),
      ps_per_byte_(1000.0 / config_.ideal.bandwidth_gbps),  // GB/s = bytes per ns
      latency_ps_(config_.ideal.latency_ns * 1000.0) {
  stats_.channel_busy_ps.assign(1, 0);
}

std::int64_t IdealMemory::access(std::uint64_t /*address*/, std::uint64_t bytes, bool is_write,
                                 std::int64_t arrival_ps) {
  if (bytes == 0) return arrival_ps;
  const double start_ps = std::max(static_cast<double>(arrival_ps), pipe_free_ps_);
  const double busy_ps = static_cast<double>(bytes) * ps_per_byte_;
  pipe_free_ps_ = start_ps + busy_ps;
  stats_.channel_busy_ps[0] += static_cast<std::int64_t>(std::llround(busy_ps));
  record_data(std::llround(start_ps), std::llround(pipe_free_ps_), static_cast<std::int64_t>(bytes));
  ++(is_write ? stats_.write_bursts : stats_.read_bursts);
  (is_write ? stats_.bytes_written : stats_.bytes_read) += bytes;
  return static_cast<std::int64_t>(std::ceil(pipe_free_ps_ + latency_ps_ - 1e-6));
}

}  // namespace npusim
