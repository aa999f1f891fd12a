// What the model emits for traces: plain records of data movement, DRAM
// commands, compute and stalls, with every time in picoseconds from the start
// of the run. The writers (chrome_trace_writer, csv_timeline_writer,
// vcd_writer) read a TraceEvents; traces/trace_recorder.h collects one under
// the user's limits.
//
// Contract for producers: end_ps >= start_ps >= 0 (a writer throws
// std::invalid_argument otherwise); an interval covers [start_ps, end_ps).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace npusim {

enum class DramCommandKind : std::uint8_t { act, rd, wr, pre, ref, ref_pb };
enum class ComputeUnit : std::uint8_t { array, ppu };
enum class StallCause : std::uint8_t { ifmap, weight, ofmap, sram, ppu };
inline constexpr int kStallCauseCount = 5;

// "ACT", "RD", "WR", "PRE", "REF".
std::string_view to_string(DramCommandKind command);
// "array", "ppu".
std::string_view to_string(ComputeUnit unit);
// "ifmap", "weight", "ofmap", "sram", "ppu".
std::string_view to_string(StallCause cause);

// One DMA transfer between DRAM and an on-chip buffer.
struct TransferEvent {
  std::string source;       // where the bytes come from: "dram" or a buffer name
  std::string destination;  // where they go
  std::string buffer;       // the on-chip buffer involved ("ifmap", "weight", "ofmap")
  std::string layer;        // the layer the transfer serves; "" when none
  std::int64_t bytes = 0;
  std::int64_t start_ps = 0;  // request issued
  std::int64_t end_ps = 0;    // last byte delivered
  bool is_write = false;      // true: a write-back to DRAM
};

// One command a DRAM controller issued.
struct DramCommandEvent {
  int channel = 0;
  int rank = 0;
  int bank_group = 0;  // REF: 0
  int bank = 0;        // within its bank group; REF: 0
  std::int64_t row = 0;
  DramCommandKind command = DramCommandKind::act;
  std::int64_t time_ps = 0;  // when the command issued
  // Bytes the command moves on the data bus (one burst for RD/WR, 0 for the
  // others). Bandwidth counters attribute them to time_ps: the data follows
  // the command by CL/CWL, far less than any useful bandwidth window.
  std::int64_t data_bytes = 0;
};

// One fold (array) or post-processing pass (ppu) of a layer.
struct ComputeEvent {
  std::string layer;
  std::int64_t fold_index = 0;
  ComputeUnit unit = ComputeUnit::array;
  std::int64_t start_ps = 0;
  std::int64_t end_ps = 0;
};

// An interval the array waited, and why.
struct StallEvent {
  std::string layer;
  StallCause cause = StallCause::ifmap;
  std::int64_t start_ps = 0;
  std::int64_t end_ps = 0;
};

// SRAM traffic of one buffer summed over [window_start_ps,
// window_start_ps + window_length_ps): array reads and writes, DMA fills and
// drains alike. This is the only source of the writers' buffer bandwidth, so
// DMA transfers are not counted a second time.
struct BufferAccessWindow {
  std::string buffer;
  std::int64_t window_start_ps = 0;
  std::int64_t window_length_ps = 0;
  std::int64_t read_bytes = 0;
  std::int64_t write_bytes = 0;
};

struct TraceEvents {
  std::vector<TransferEvent> transfers;
  std::vector<DramCommandEvent> dram_commands;
  std::vector<ComputeEvent> computes;
  std::vector<StallEvent> stalls;
  std::vector<BufferAccessWindow> buffer_windows;

  // Components that get a track / column even when idle. Writers add the
  // buffers and channels they find in the events.
  std::vector<std::string> buffer_names;
  int dram_channel_count = 0;

  // Set when the event limit dropped events: the trace ends early.
  bool truncated = false;
  std::int64_t max_events = 0;  // the limit in force
};

// "trace truncated at N events (limit --trace-max-events)", or "" when the
// trace is complete.
std::string truncation_message(const TraceEvents& events);

}  // namespace npusim
