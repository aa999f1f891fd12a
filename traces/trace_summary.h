// What a run's trace adds up to, per time window, without its events: the
// bytes each buffer, the DMA and each DRAM channel moved (the same
// TrafficTimeline build_traffic_timeline() gives), the time the array
// computed, and where the trace ends. The CSV timeline, the counter tracks,
// the VCD's bandwidth signals and the HTML report's charts need no more, so a
// streaming run keeps this (memory grows with simulated time / window, not
// with the event count) instead of the events.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "traces/trace_events.h"
#include "traces/traffic_timeline.h"

namespace npusim {

struct TraceSummary {
  TrafficTimeline traffic;  // windows of traffic.window_ps
  // Window -> picoseconds of array folds in it (overlaps counted twice).
  std::map<std::int64_t, std::int64_t> array_busy_ps;
  std::int64_t end_ps = 0;  // trace_end_ps() of the events
  std::string truncation;   // truncation_message() of the events
};

// Builds a TraceSummary batch by batch, in any order of events.
class TraceAggregator {
 public:
  // Throws std::invalid_argument for window_ps <= 0.
  explicit TraceAggregator(std::int64_t window_ps);

  // A batch as a streaming recorder flushes it (traces/trace_sink.h): partial
  // buffer windows add up. Throws like build_traffic_timeline().
  void add(const TraceEvents& batch);

  TraceSummary summary() const;
  // The buffer windows so far, partial ones summed: per buffer (by name), by time.
  std::vector<BufferAccessWindow> buffer_windows() const;

 private:
  std::int64_t window_ps_;
  // (buffer, window start, window length) -> (read, write) bytes.
  std::map<std::tuple<std::string, std::int64_t, std::int64_t>, WindowBytes> buffer_windows_;
  std::vector<std::string> buffer_names_;
  TrafficSeries dma_;
  std::vector<TrafficSeries> dram_channels_;
  int declared_channels_ = 0;
  std::int64_t window_count_ = 0;
  std::int64_t end_ps_ = 0;
  std::map<std::int64_t, std::int64_t> array_busy_ps_;
  std::string truncation_;
};

TraceSummary summarize_trace(const TraceEvents& events, std::int64_t window_ps);

// The same traffic over windows `factor` times longer. Equal to
// build_traffic_timeline() at that window for the same events, because a
// window's share of an interval depends only on the bytes done by its
// boundaries (traces/window_split.h). Throws std::invalid_argument for factor < 1.
TrafficTimeline coarsen(const TrafficTimeline& timeline, std::int64_t factor);

}  // namespace npusim
