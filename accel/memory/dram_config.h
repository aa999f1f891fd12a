// Parameters of the off-chip memory: organization, JEDEC timing and controller
// knobs of the DRAM timing model, or the bandwidth and latency of the `ideal`
// memory. One struct, built from a preset (accel/memory/dram_presets.h) and overridden
// field by field by sim/config; validate() is the only gate before use.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace npusim {

// timing: channels, banks, row buffers and the JEDEC rules (DramController).
// ideal: one pipe with a fixed bandwidth and latency (IdealMemory), the model
// analytical tools assume.
enum class DramKind { timing, ideal };

std::optional<DramKind> parse_dram_kind(std::string_view name);
std::string_view to_string(DramKind kind);

// Every field is in cycles of the command clock (tCK_ps), as the datasheets
// give them in nCK after rounding the ns minimums up.
struct DramTimingCycles {
  int CL = 22;        // read command to first data beat (RL; AL = 0)
  int CWL = 16;       // write command to first data beat (WL)
  int tRCD = 22;      // ACT to RD/WR, same bank
  int tRP = 22;       // PRE to ACT, same bank
  int tRAS = 52;      // ACT to PRE, same bank
  int tRC = 74;       // ACT to ACT, same bank
  int tWR = 24;       // end of write data to PRE, same bank
  int tRTP = 12;      // RD to PRE, same bank
  int tWTR_S = 4;     // end of write data to RD, other bank group of the rank
  int tWTR_L = 12;    // end of write data to RD, same bank group
  int tCCD_S = 4;     // RD to RD (WR to WR), other bank group
  int tCCD_L = 8;     // RD to RD (WR to WR), same bank group
  int tRRD_S = 4;     // ACT to ACT, other bank group
  int tRRD_L = 8;     // ACT to ACT, same bank group
  int tFAW = 34;      // window holding at most four ACTs of one rank
  int tRFC = 560;     // REF to ACT: the rank is blocked this long
  int tREFI = 12480;  // mean interval between REF commands of a rank
  int tRTRS = 1;      // data-bus switch between ranks
  int tPPD = 0;       // PRE to PRE, same rank (LPDDR4: 4 nCK); 0: no such rule
  int tDQSS = 0;      // write DQS delay after WL, added where write data ends (LPDDR4: 1)
  // Per-bank refresh (refresh_mode per_bank; REFpb of LPDDR4/5, REFSB of HBM2).
  // 0 where the standard has none.
  int tRFCpb = 0;    // REFpb to ACT, the refreshed bank
  int tREFIpb = 0;   // mean interval between REFpb commands of a rank
  int tPBR2PBR = 0;  // REFpb to REFpb, other bank of the rank
  int tPBR2ACT = 0;  // REFpb to ACT, other bank of the rank (and ACT to REFpb)
};

// all_bank: one REF per rank every tREFI closes every bank and blocks the rank
// tRFC. per_bank: one REFpb every tREFIpb refreshes the next bank of the rank
// in turn (per_bank_refresh_banks of them at once) and blocks only those tRFCpb.
enum class DramRefreshMode { all_bank, per_bank };
std::optional<DramRefreshMode> parse_dram_refresh_mode(std::string_view name);
std::string_view to_string(DramRefreshMode mode);

// How the controller picks the next command (DramController).
//  fcfs: the oldest request of each command queue, oldest queue first.
//  frfcfs: column commands to open rows first, then the oldest request.
//  frfcfs_cap: frfcfs, but after `row_hit_cap` hits to a row while a request to
//  another row of the bank waits, the bank is precharged for that request.
enum class DramScheduler { fcfs, frfcfs, frfcfs_cap };
// open: rows stay open; closed: every column command auto-precharges unless a
// queued request hits the same row; adaptive: precharge when no queued request
// hits the row and one to another row of the bank waits.
enum class DramPagePolicy { open, closed, adaptive };
// Command queues per bank (per_bank) or per rank (per_rank).
enum class DramQueueStructure { per_bank, per_rank };

std::optional<DramScheduler> parse_dram_scheduler(std::string_view name);
std::optional<DramPagePolicy> parse_dram_page_policy(std::string_view name);
std::optional<DramQueueStructure> parse_dram_queue_structure(std::string_view name);
std::string_view to_string(DramScheduler value);
std::string_view to_string(DramPagePolicy value);
std::string_view to_string(DramQueueStructure value);

// The controller knobs ($.memory.dram.controller).
struct DramControllerConfig {
  DramScheduler scheduler = DramScheduler::frfcfs_cap;
  int row_hit_cap = 4;  // frfcfs_cap: hits while a conflicting request waits
  DramPagePolicy page_policy = DramPagePolicy::open;
  DramQueueStructure queue_structure = DramQueueStructure::per_bank;
  int transaction_queue_depth = 32;  // reads per channel waiting for a command queue
  int command_queue_depth = 8;       // entries per bank (or rank) command queue
  // Posted writes: a write completes when it enters the buffer. The buffer
  // drains into the command queues from the high watermark down to the low one,
  // and whenever no read waits.
  int write_buffer_depth = 32;
  int write_high_watermark = 24;
  int write_low_watermark = 8;
  int frontend_latency_cycles = 1;  // request arrival to transaction queue, in tCK
  int commands_per_cycle = 1;       // command bus: 2 for HBM (one row + one column command)
};

// The idle model: a transfer occupies one pipe for bytes / bandwidth, and its
// data is complete `latency_ns` after it leaves the pipe.
struct IdealMemoryConfig {
  double bandwidth_gbps = 25.6;  // GB/s = bytes per ns
  double latency_ns = 30.0;
  std::uint64_t capacity_bytes = std::uint64_t{8} << 30;
};

struct DramConfig {
  std::string name = "ddr4-3200";  // preset it came from, for reports
  DramKind kind = DramKind::timing;

  // Organization. Counts are powers of two so an address splits into bit fields.
  int channels = 1;     // independent command + data buses
  int ranks = 1;        // per channel, sharing its data bus
  int bank_groups = 4;  // per rank; 1 when the part has none
  int banks_per_group = 4;
  std::int64_t rows = 65536;    // per bank
  int columns = 1024;           // per row, each one bus width wide: row = columns * bus bytes
  int bus_width_bits = 64;      // data bus of one channel
  int burst_length = 8;         // beats per RD/WR (= the prefetch of every preset part)
  int transfers_per_clock = 2;  // beats per tCK: 2 for DDR, 8 for LPDDR5's 4:1 WCK
  std::int64_t tCK_ps = 625;
  DramTimingCycles timing;
  bool refresh = true;
  DramRefreshMode refresh_mode = DramRefreshMode::all_bank;
  // Banks one REFpb refreshes: LPDDR5 in bank-group mode refreshes bank b and
  // b + banks_per_rank / 2 together (JESD209-5); 1 elsewhere.
  int per_bank_refresh_banks = 1;

  // Address mapping, fields from most to least significant bit: Ro (row), Ba
  // (bank; includes the bank group when Bg is absent), Bg, Ra, Co, Ch. Below the
  // last field sit the low column bits of one interleave granule: a transfer
  // stays in one channel (and bank) for `interleave_bytes` before moving on.
  std::string address_mapping = "RoBaRaCoBgCh";
  int interleave_bytes = 64;

  DramControllerConfig controller;

  IdealMemoryConfig ideal;

  // Derived figures (meaningful after validate() passed).
  int bus_bytes() const { return bus_width_bits / 8; }
  int burst_bytes() const { return bus_bytes() * burst_length; }
  int burst_cycles() const { return burst_length / transfers_per_clock; }  // tBURST
  std::int64_t row_bytes() const { return std::int64_t{columns} * bus_bytes(); }
  int banks_per_rank() const { return bank_groups * banks_per_group; }
  std::uint64_t capacity_bytes() const;
  // channels * bus bytes * transfers per clock * f_clk, in GB/s (bytes per ns).
  double peak_bandwidth_gbps() const;
};

// Empty when the config is usable; otherwise one line naming the field (as
// its JSON key below the dram object, e.g. "timing.tRAS") and what was
// expected. The caller prefixes the file and the path of the dram object.
std::string validate(const DramConfig& config);

}  // namespace npusim
