#include "accel/memory/dram_bandwidth.h"

#include <algorithm>
#include <stdexcept>

#include "accel/memory/dram_model.h"

namespace npusim {
namespace {

// splitmix64: a tiny, well-mixed generator, so the probe needs no shared state.
std::uint64_t next_random(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace

BandwidthResult measure_bandwidth(const DramConfig& config, const BandwidthProbe& probe) {
  if (probe.total_bytes == 0 || probe.request_bytes == 0) {
    throw std::invalid_argument("bandwidth probe needs total_bytes and request_bytes above zero");
  }
  auto model = make_dram_model(config);
  const std::uint64_t range = std::min(probe.address_range_bytes, config.capacity_bytes());
  const std::uint64_t slots = std::max<std::uint64_t>(range / probe.request_bytes, 1);
  std::uint64_t state = probe.seed;
  std::int64_t done_ps = 0;
  std::uint64_t moved = 0;
  for (std::uint64_t i = 0; moved < probe.total_bytes; ++i) {
    const std::uint64_t bytes = std::min<std::uint64_t>(probe.request_bytes, probe.total_bytes - moved);
    const std::uint64_t slot = probe.pattern == AccessPattern::sequential ? i % slots : next_random(state) % slots;
    done_ps = std::max(done_ps, model->access(slot * probe.request_bytes, bytes, probe.is_write, 0));
    moved += bytes;
  }
  BandwidthResult result;
  result.elapsed_ps = done_ps;
  result.gbps = static_cast<double>(moved) / (static_cast<double>(done_ps) * 1e-3);
  result.share_of_peak = result.gbps / config.peak_bandwidth_gbps();
  result.stats = model->stats();
  return result;
}

}  // namespace npusim
