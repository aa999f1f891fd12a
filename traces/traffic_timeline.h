// Bytes moved per time window, per SRAM buffer and per DRAM channel: the
// common input of every writer's bandwidth figures.
//
// Sources: a buffer's traffic is its BufferAccessWindow records (re-binned
// onto this timeline's windows); the DMA's is its transfers (read: into the
// chip, write: write-backs to DRAM); a DRAM channel's is the data_bytes of
// its RD (read) and WR (write) commands, at the command's time. Intervals are
// split across windows in proportion to time, in whole bytes
// (traces/window_split.h). GB/s are decimal: 1 GB/s = 1e9 bytes/s, so a
// window of W ps that moved B bytes ran at B * 1000 / W GB/s.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "traces/trace_events.h"

namespace npusim {

struct WindowBytes {
  std::int64_t read_bytes = 0;
  std::int64_t write_bytes = 0;
  bool operator==(const WindowBytes&) const = default;
};

struct TrafficSeries {
  std::string name;                             // "ifmap", "dram_ch0"
  std::map<std::int64_t, WindowBytes> windows;  // window index -> bytes; absent: none

  WindowBytes at(std::int64_t window) const;
  // Where the per-window value changes, in window order: (window, value from
  // there on). Starts at window 0 and ends with a return to zero after the
  // last busy window, so a step plot of it is the whole series.
  std::vector<std::pair<std::int64_t, WindowBytes>> change_points() const;
};

struct TrafficTimeline {
  std::int64_t window_ps = 0;
  std::int64_t window_count = 0;             // windows [0, window_count) hold every event of the trace
  std::vector<TrafficSeries> buffers;        // declared and seen buffers, sorted by name
  TrafficSeries dma;                         // "dma"
  std::vector<TrafficSeries> dram_channels;  // index = channel; declared count or highest seen + 1
};

// Throws std::invalid_argument for window_ps <= 0, a negative channel or an
// invalid interval (traces/window_split.h).
TrafficTimeline build_traffic_timeline(const TraceEvents& events, std::int64_t window_ps);

// Adds `bytes` moved over [start_ps, end_ps] to `series`, spread over the
// windows it overlaps in proportion (traces/window_split.h).
void add_series_bytes(TrafficSeries& series, std::int64_t start_ps, std::int64_t end_ps, std::int64_t bytes,
                      bool is_write, std::int64_t window_ps);

// The series of `name` in `buffers` (sorted by name), inserted empty if absent.
TrafficSeries& series_named(std::vector<TrafficSeries>& buffers, const std::string& name);

// Latest time any event reaches (end of an interval, time of a command).
std::int64_t trace_end_ps(const TraceEvents& events);

// bytes * 1000 / window_ps: the GB/s of `bytes` moved in one window.
double gigabytes_per_second(std::int64_t bytes, std::int64_t window_ps);

// bytes * 1e6 / window_ps rounded to the nearest integer (halves up): MB/s.
std::int64_t megabytes_per_second(std::int64_t bytes, std::int64_t window_ps);

}  // namespace npusim
