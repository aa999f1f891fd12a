#include "sim/commands/dram_bench_command.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "accel/memory/kernel_time.h"
#include "accel/npu/process_hardware.h"
#include "models/input_error.h"
#include "models/json_reader.h"
#include "sim/config/memory_config.h"

namespace npusim {
namespace {

constexpr std::array<const char*, 5> kPatternNames{"seq", "rand", "mix", "seq1", "rand1"};

// splitmix64: a fixed, platform-independent sequence (std distributions are not).
std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

class TrafficGenerator {
 public:
  TrafficGenerator(DramBenchPattern pattern, std::uint64_t capacity_bytes, std::uint64_t request_bytes)
      : pattern_(pattern), bursts_(capacity_bytes / request_bytes), request_bytes_(request_bytes) {}

  std::pair<std::uint64_t, bool> next() {
    const std::uint64_t i = issued_++;
    switch (pattern_) {
      case DramBenchPattern::seq:
      case DramBenchPattern::seq1: return {(i % bursts_) * request_bytes_, false};
      case DramBenchPattern::rand:
      case DramBenchPattern::rand1: return {(splitmix64(state_) % bursts_) * request_bytes_, false};
      case DramBenchPattern::mix: break;
    }
    const std::uint64_t half = bursts_ / 2;
    if (i % 3 == 2) return {(half + (writes_++ % half)) * request_bytes_, true};
    return {(reads_++ % half) * request_bytes_, false};
  }

 private:
  DramBenchPattern pattern_;
  std::uint64_t bursts_;
  std::uint64_t request_bytes_;
  std::uint64_t issued_ = 0, reads_ = 0, writes_ = 0;
  std::uint64_t state_ = 1;
};

// The closed loop through the process's DRAM target, over TLM: the traffic
// generator keeps `outstanding` requests in flight and sends the next as one
// completes. Returns the read latencies in ps.
std::vector<std::int64_t> closed_loop(const DramConfig& config, TrafficGenerator& traffic, int outstanding,
                                      std::int64_t requests, std::int64_t request_bytes, std::int64_t& last_ps,
                                      DramStats& stats) {
  ProcessHardware& hw = process_hardware();
  hw.dram.reset(config, kernel_now_ps());
  std::vector<std::int64_t> latencies;
  std::int64_t sent = 0;
  const auto next = [&]() -> std::optional<DramTrafficInitiator::Request> {
    if (sent == requests) return std::nullopt;
    ++sent;
    const auto [address, is_write] = traffic.next();
    return DramTrafficInitiator::Request{address, static_cast<std::uint32_t>(request_bytes), is_write};
  };
  const auto completed = [&](const DramTrafficInitiator::Request& r, std::int64_t issue_ps, std::int64_t done_ps) {
    if (!r.is_write) latencies.push_back(done_ps - issue_ps);
    last_ps = std::max(last_ps, done_ps);
  };
  hw.traffic.run_closed_loop(outstanding, next, completed);
  stats = hw.dram.model().stats();
  return latencies;
}

}  // namespace

std::optional<DramBenchPattern> parse_dram_bench_pattern(const std::string& name) {
  for (std::size_t i = 0; i < kPatternNames.size(); ++i) {
    if (name == kPatternNames[i]) return static_cast<DramBenchPattern>(i);
  }
  return std::nullopt;
}

DramBenchResult run_dram_bench(const DramConfig& config, DramBenchPattern pattern, int outstanding,
                               std::int64_t requests) {
  if (pattern == DramBenchPattern::seq1 || pattern == DramBenchPattern::rand1) outstanding = 1;
  const auto request_bytes = static_cast<std::uint64_t>(config.kind == DramKind::ideal ? 64 : config.burst_bytes());
  TrafficGenerator traffic(pattern, config.capacity_bytes(), request_bytes);
  std::int64_t last_ps = 0;
  const auto start = std::chrono::steady_clock::now();
  DramStats stats;
  std::vector<std::int64_t> latencies =
      closed_loop(config, traffic, outstanding, requests, static_cast<std::int64_t>(request_bytes), last_ps, stats);
  const std::chrono::duration<double> wall = std::chrono::steady_clock::now() - start;

  DramBenchResult r;
  r.requests = requests;
  r.outstanding = outstanding;
  r.request_bytes = static_cast<int>(request_bytes);
  r.elapsed_ns = static_cast<double>(last_ps) * 1e-3;
  r.bandwidth_gbps =
      r.elapsed_ns > 0 ? static_cast<double>(requests) * static_cast<double>(request_bytes) / r.elapsed_ns : 0;
  r.peak_gbps = config.peak_bandwidth_gbps();
  const double tck_ps = static_cast<double>(config.tCK_ps);
  if (!latencies.empty()) {
    double sum = 0;
    for (std::int64_t l : latencies) sum += static_cast<double>(l);
    r.read_latency_avg_cycles = sum / static_cast<double>(latencies.size()) / tck_ps;
    const auto rank = static_cast<std::size_t>(std::ceil(0.99 * static_cast<double>(latencies.size()))) - 1;
    std::nth_element(latencies.begin(), latencies.begin() + static_cast<std::ptrdiff_t>(rank), latencies.end());
    r.read_latency_p99_cycles = static_cast<double>(latencies[rank]) / tck_ps;
  }
  r.row_hit_pct = 100.0 * stats.row_hit_rate();
  if (config.kind == DramKind::timing && last_ps > 0) {
    const double rank_ps = static_cast<double>(last_ps) * config.channels * config.ranks;
    // Bank time under refresh: a REF holds every bank of its rank tRFC, a
    // REFpb per_bank_refresh_banks of them tRFCpb.
    const double rank_refresh_cycles = static_cast<double>(stats.refreshes) * config.timing.tRFC +
                                       static_cast<double>(stats.bank_refreshes) * config.timing.tRFCpb *
                                           config.per_bank_refresh_banks / config.banks_per_rank();
    r.refresh_share_pct = 100.0 * rank_refresh_cycles * tck_ps / rank_ps;
  }
  r.wall_seconds = wall.count();
  return r;
}

namespace {

DramConfig read_bench_config(const std::string& path) {
  const nlohmann::json document = read_json_file(path);
  JsonObjectReader root(document, path, "$");
  if (!root.has("memory")) throw InputError(path + ": $.memory: missing (dram-bench reads $.memory.dram)");
  auto memory = root.child("memory");
  if (!memory.has("dram")) throw InputError(path + ": $.memory.dram: missing");
  auto dram = memory.child("dram");
  return read_dram_config(dram);
}

nlohmann::ordered_json to_json(const DramBenchOptions& options, const DramConfig& config, const DramBenchResult& r) {
  return {{"schema", "npusim.dram_bench/1"},
          {"config", options.config_path},
          {"dram", config.name},
          {"pattern", kPatternNames[static_cast<std::size_t>(options.pattern)]},
          {"requests", r.requests},
          {"outstanding", r.outstanding},
          {"request_bytes", r.request_bytes},
          {"elapsed_ns", r.elapsed_ns},
          {"bandwidth_gbps", r.bandwidth_gbps},
          {"peak_gbps", r.peak_gbps},
          {"peak_pct", r.peak_gbps > 0 ? 100.0 * r.bandwidth_gbps / r.peak_gbps : 0.0},
          {"read_latency_avg_cycles", r.read_latency_avg_cycles},
          {"read_latency_p99_cycles", r.read_latency_p99_cycles},
          {"row_hit_pct", r.row_hit_pct},
          {"refresh_share_pct", r.refresh_share_pct}};
}

}  // namespace

int dram_bench_command(const DramBenchOptions& options, std::ostream& out, std::ostream& err) {
  const DramConfig config = read_bench_config(options.config_path);
  const DramBenchResult r = run_dram_bench(config, options.pattern, options.outstanding, options.requests);
  const auto flags = out.flags();
  out << std::fixed << std::setprecision(2);
  out << "dram-bench " << config.name << " (" << options.config_path << "), pattern "
      << kPatternNames[static_cast<std::size_t>(options.pattern)] << ", " << r.requests << " requests of "
      << r.request_bytes << " B, " << r.outstanding << " in flight\n";
  out << "  bandwidth_gbps            " << r.bandwidth_gbps << "  (" << 100.0 * r.bandwidth_gbps / r.peak_gbps
      << " % of peak " << r.peak_gbps << ")\n";
  out << "  read_latency_avg_cycles   " << r.read_latency_avg_cycles << "\n";
  out << "  read_latency_p99_cycles   " << r.read_latency_p99_cycles << "\n";
  out << "  row_hit_pct               " << r.row_hit_pct << "\n";
  out << "  refresh_share_pct         " << r.refresh_share_pct << "\n";
  out.flags(flags);
  // Host speed varies run to run: on stderr, apart from the deterministic figures.
  err << "dram-bench: " << static_cast<double>(r.requests) / r.wall_seconds / 1e6 << " M requests/s (" << r.wall_seconds
      << " s)\n";
  if (options.json_path) {
    std::ofstream file(*options.json_path);
    if (!file) throw InputError(*options.json_path + ": cannot open for writing");
    file << to_json(options, config, r).dump(2) << '\n';
  }
  return 0;
}

}  // namespace npusim
