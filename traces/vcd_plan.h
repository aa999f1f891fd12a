// The waveforms a VCD trace shows, derived from the events without SystemC:
// which signals exist and when each changes value. traces/vcd_writer.h
// replays this plan through SystemC's own VCD tracing.
//
// Signals, in this order:
//   array_busy, ppu_busy   1 while a fold / post-processing pass runs
//   dma_active             1 while any DMA transfer is in flight
//   stall_ifmap, stall_weight, stall_ofmap, stall_sram
//                          1 while the array waits for that cause
//   <buffer>_mbps          SRAM traffic (read + write) of each buffer, by name
//   dma_mbps               DMA transfers (loads + write-backs)
//   dram_ch<N>_mbps        data traffic (RD + WR) of each DRAM channel
// Flags are the union of their intervals (overlaps and back-to-back
// intervals stay 1; zero-length intervals do not show). Bandwidths are
// integer MB/s (1e6 bytes/s, rounded) averaged over each window, as
// traces/traffic_timeline.h bins them; they step at window boundaries.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "traces/trace_events.h"
#include "traces/traffic_timeline.h"

namespace npusim {

struct VcdSignal {
  std::string name;
  int width_bits = 1;  // 1: a flag; 64: a counter
};

struct VcdChange {
  std::int64_t time_ps = 0;
  int signal = 0;  // index into VcdPlan::signals
  std::int64_t value = 0;
};

struct VcdPlan {
  std::vector<VcdSignal> signals;
  std::vector<VcdChange> changes;  // by time, then signal; every signal starts at 0
  std::int64_t end_ps = 0;         // the later of the last event and the last change
};

// Throws std::invalid_argument for window_ps <= 0 or an invalid interval.
VcdPlan plan_vcd(const TraceEvents& events, std::int64_t window_ps);

// The pieces plan_vcd() is made of, for a writer that streams the events
// (traces/streaming_trace_writer.h):

// Every signal, in plan order, for a trace with this traffic.
std::vector<VcdSignal> vcd_signals(const TrafficTimeline& traffic);
inline constexpr int kVcdFlagSignals = 3 + kStallCauseCount;  // the flags come first

// A flag's changes from its intervals given in order of start (as the union:
// equal to what plan_vcd() derives from the same intervals in any order).
class FlagUnion {
 public:
  using Emit = std::function<void(std::int64_t time_ps, std::int64_t value)>;
  explicit FlagUnion(Emit emit) : emit_(std::move(emit)) {}
  // Throws std::invalid_argument for an invalid interval or one that starts
  // before the previous one.
  void add(std::int64_t start_ps, std::int64_t end_ps);
  void finish();  // emits the last fall

 private:
  Emit emit_;
  bool open_ = false;
  std::int64_t start_ps_ = 0, end_ps_ = 0, last_start_ps_ = 0;
};

// A bandwidth signal's changes (time, MB/s) for one series, in time order.
std::vector<std::pair<std::int64_t, std::int64_t>> counter_changes(const TrafficSeries& series, std::int64_t window_ps);

}  // namespace npusim
