// Collects trace events under the user's limits: a maximum number of events,
// an optional set of layers and an optional time range. When the maximum cuts
// the trace, the recorder remembers it so the writers and the CLI can say so
// (truncation_message()).
//
// Cost when tracing is off: the model holds a `TraceRecorder*` that is null and
// tests it before building an event. When on, `accepting()` turns false once
// the limit is reached, so the model can stop building events altogether.
// Memory is bounded by max_events (SRAM accesses are summed per window, one
// event per buffer and window) or, when the recorder streams into a
// TraceSink (stream_to), by the flush threshold: once that many events are
// resident the recorder hands them all over and starts afresh, so a long run
// never holds more than one batch.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "traces/trace_events.h"
#include "traces/trace_sink.h"

namespace npusim {

struct TraceLimits {
  // Events kept (transfers, DRAM commands, computes, stalls, buffer windows);
  // the first one past it is dropped with everything after it.
  std::int64_t max_events = 2'000'000;
  // Layers to keep; empty keeps every layer.
  std::vector<std::string> layers;
  // Keep events that overlap [from_ps, to_ps) (an instant: from_ps <= t < to_ps).
  std::int64_t from_ps = 0;
  std::int64_t to_ps = std::numeric_limits<std::int64_t>::max();
  // SRAM accesses are summed over windows of this length.
  std::int64_t buffer_window_ps = 1'000'000;
};

// Throws std::invalid_argument naming the field: max_events < 0, from_ps < 0,
// to_ps <= from_ps or buffer_window_ps <= 0.
void validate(const TraceLimits& limits);

class TraceRecorder {
 public:
  // Throws like validate().
  explicit TraceRecorder(TraceLimits limits = {});

  const TraceLimits& limits() const { return limits_; }

  // False once the event limit has been reached: nothing more is kept.
  bool accepting() const noexcept { return !truncated_; }
  bool truncated() const noexcept { return truncated_; }
  std::int64_t event_count() const noexcept { return event_count_; }
  // "" until the limit cuts the trace (see truncation_message(TraceEvents)).
  std::string truncation_message() const;

  // Components that get a track / column even if they never move a byte.
  void declare_buffer(std::string_view name);
  void declare_dram_channels(int count);

  // The layer the model works on from now on. Events without a layer of their
  // own (DRAM commands, buffer accesses, events whose layer is "") are kept
  // when this layer is; before the first call they are kept only when no
  // layer filter is set.
  void set_current_layer(std::string_view layer);
  bool keeps_layer(std::string_view layer) const;

  // Each throws std::invalid_argument for an interval with end < start or a
  // negative time; events outside the limits are dropped silently.
  void record(TransferEvent event);
  void record(const DramCommandEvent& event);
  void record(ComputeEvent event);
  void record(StallEvent event);
  // `read_bytes` and `write_bytes` spread uniformly over [start_ps, end_ps),
  // summed into the buffer's windows of limits().buffer_window_ps (whole
  // bytes, traces/window_split.h). Windows outside the time range are dropped.
  void record_buffer_access(std::string_view buffer, std::int64_t start_ps, std::int64_t end_ps,
                            std::int64_t read_bytes, std::int64_t write_bytes);

  // From now on, hand the resident events to `sink` (non-null, must outlive
  // the recorder's use of it) whenever `flush_threshold_events` (> 0) of them
  // are resident, and on flush(). Throws std::invalid_argument for a null sink
  // or a threshold < 1. What counts against max_events does not change.
  void stream_to(TraceSink* sink, std::int64_t flush_threshold_events);
  // Hands the resident events to the sink now (no-op without one or when
  // none are resident). Call it once the run is over.
  void flush();
  // Events held in memory now (transfers, commands, computes, stalls and
  // buffer windows): never more than the flush threshold when streaming.
  std::int64_t resident_event_count() const noexcept { return resident_; }
  // The most that were ever resident at once.
  std::int64_t peak_resident_event_count() const noexcept { return peak_resident_; }

  // The events so far (when streaming: those not flushed yet); buffer windows
  // ordered by buffer (first seen first), then time.
  TraceEvents events() const;
  // The same, moved out; the recorder is left empty with its limits.
  TraceEvents take_events();

 private:
  struct BufferWindows {
    std::string name;
    std::map<std::int64_t, std::pair<std::int64_t, std::int64_t>> read_write_bytes;  // window -> (read, write)
    // Windows already flushed, as [first, last + 1) runs: a later access to one
    // of them adds bytes without counting a new event, as it would in memory.
    std::map<std::int64_t, std::int64_t> flushed;
  };

  bool in_time_range(std::int64_t start_ps, std::int64_t end_ps) const;
  bool keeps_own_layer(const std::string& layer) const;
  // Counts one more event; false (and truncated) when the limit is reached.
  bool admit();
  BufferWindows& windows_of(std::string_view buffer);
  void add_window_bytes(BufferWindows& windows, std::int64_t window, std::int64_t bytes, bool is_write);
  void append_buffer_windows(TraceEvents& out) const;
  // Counts one more resident event and flushes at the threshold.
  void hold_one();
  void flush_if_full();

  TraceLimits limits_;
  TraceEvents events_;  // all but buffer_windows
  std::vector<BufferWindows> buffers_;
  std::int64_t event_count_ = 0;
  bool truncated_ = false;
  bool current_layer_kept_ = true;
  TraceSink* sink_ = nullptr;
  std::int64_t flush_threshold_ = 0;
  std::int64_t resident_ = 0;
  std::int64_t peak_resident_ = 0;
};

}  // namespace npusim
