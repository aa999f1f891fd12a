// Sustained bandwidth of an access pattern on a memory config: a saturating
// initiator issues every request at time 0 and the model serves them in order.
// Used by the tests and for quick micro-benchmark printouts.
#pragma once

#include <cstdint>

#include "accel/memory/dram_config.h"
#include "accel/memory/dram_stats.h"

namespace npusim {

enum class AccessPattern { sequential, random };

struct BandwidthProbe {
  AccessPattern pattern = AccessPattern::sequential;
  std::uint64_t total_bytes = std::uint64_t{16} << 20;
  std::uint32_t request_bytes = 64;
  bool is_write = false;
  // sequential: requests walk up from address 0. random: request-aligned
  // addresses drawn uniformly below this bound (clipped to the capacity).
  std::uint64_t address_range_bytes = std::uint64_t{1} << 30;
  std::uint64_t seed = 1;
};

struct BandwidthResult {
  double gbps = 0.0;           // bytes moved / time of the last completion
  double share_of_peak = 0.0;  // gbps / the config's peak
  std::int64_t elapsed_ps = 0;
  DramStats stats;
};

// Throws std::invalid_argument for a bad config or a probe with no bytes.
BandwidthResult measure_bandwidth(const DramConfig& config, const BandwidthProbe& probe);

}  // namespace npusim
