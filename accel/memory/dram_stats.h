// Counters of a memory model: plain integers, incremented once per event.
#pragma once

#include <cstdint>
#include <vector>

namespace npusim {

struct DramStats {
  std::uint64_t bytes_read = 0;  // as requested, not rounded up to bursts
  std::uint64_t bytes_written = 0;
  std::uint64_t read_bursts = 0;    // RD commands; ideal memory: one per access
  std::uint64_t write_bursts = 0;   // bursts written into the write buffer (merged ones not)
  std::uint64_t row_hits = 0;       // the bank had the row open
  std::uint64_t row_misses = 0;     // the bank was closed: ACT only
  std::uint64_t row_conflicts = 0;  // another row was open: PRE + ACT
  std::uint64_t activations = 0;
  std::uint64_t precharges = 0;               // including those that close banks for refresh
  std::uint64_t refreshes = 0;                // REF commands, counted per rank
  std::uint64_t bank_refreshes = 0;           // REFpb commands (refresh_mode per_bank)
  std::uint64_t reads_from_write_buffer = 0;  // read bursts served by a buffered write (no command)
  std::vector<std::int64_t> channel_busy_ps;  // time each channel's data bus carried data

  std::uint64_t bursts() const { return read_bursts + write_bursts; }
  // Share of bursts that found their row open; 0 before any burst.
  double row_hit_rate() const {
    const std::uint64_t n = row_hits + row_misses + row_conflicts;
    return n == 0 ? 0.0 : static_cast<double>(row_hits) / static_cast<double>(n);
  }
};

}  // namespace npusim
