// The memory analytical tools assume: one pipe with a fixed bandwidth and a
// fixed latency, no banks, rows or refresh. A transfer waits for the pipe,
// occupies it for bytes / bandwidth, and completes `latency_ns` after that.
#pragma once

#include "accel/memory/dram_model.h"

namespace npusim {

class IdealMemory final : public DramModel {
 public:
  // Throws std::invalid_argument with validate()'s message for a bad config.
  explicit IdealMemory(const DramConfig& config);

  std::int64_t access(std::uint64_t address, std::uint64_t bytes, bool is_write, std::int64_t arrival_ps) override;

  const DramStats& stats() const override { return stats_; }
  const DramConfig& config() const override { return config_; }

 private:
  DramConfig config_;
  double ps_per_byte_ = 0.0;
  double latency_ps_ = 0.0;
  // Kept fractional so that many small transfers add up to exactly bytes /
  // bandwidth; results are rounded up to whole picoseconds.
  double pipe_free_ps_ = 0.0;
  DramStats stats_;
};

}  // namespace npusim
