// `npusim dram-bench`: drives the DRAM model of a config's $.memory.dram with a
// closed-loop traffic generator, the way DRAMsim3's and Ramulator's generators
// are used to characterise a memory: a fixed number of requests in flight, a
// new one issued the cycle one completes.
//
// Patterns (one burst per request, addresses burst-aligned over the capacity):
//  seq   reads of consecutive bursts
//  rand  reads of uniformly random bursts (a fixed-seed generator)
//  mix   R R W repeated: reads stream through the lower half of the capacity,
//        writes through the upper half, each consecutive
//  seq1 / rand1  seq / rand with one request in flight: unloaded latency
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "accel/memory/dram_config.h"

namespace npusim {

enum class DramBenchPattern { seq, rand, mix, seq1, rand1 };
std::optional<DramBenchPattern> parse_dram_bench_pattern(const std::string& name);

struct DramBenchOptions {
  std::string config_path;
  DramBenchPattern pattern = DramBenchPattern::rand;
  // Requests in flight (seq1 / rand1: always 1). 48 stands for DRAMsim3's
  // generator, which issues while its 32-entry transaction queue accepts: 32
  // queued, up to 8 in a bank's command queue and the reads whose data is on
  // its way (CL + tBURST = 26 cycles at one per 4-8 cycles).
  int outstanding = 48;
  std::int64_t requests = 200000;
  std::optional<std::string> json_path;
};

struct DramBenchResult {
  std::int64_t requests = 0;
  int outstanding = 0;
  int request_bytes = 0;
  double elapsed_ns = 0;  // first arrival to last completion
  double bandwidth_gbps = 0;
  double peak_gbps = 0;
  double read_latency_avg_cycles = 0;
  double read_latency_p99_cycles = 0;
  double row_hit_pct = 0;
  double refresh_share_pct = 0;  // rank time spent in tRFC
  double wall_seconds = 0;       // host time of the run, not deterministic
};

DramBenchResult run_dram_bench(const DramConfig& config, DramBenchPattern pattern, int outstanding,
                               std::int64_t requests);

// Reads $.memory.dram of the config file (throws InputError naming the file and
// JSON path), runs, prints the figures; 0 on success.
int dram_bench_command(const DramBenchOptions& options, std::ostream& out, std::ostream& err);

}  // namespace npusim
