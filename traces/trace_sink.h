// Where a streaming TraceRecorder (traces/trace_recorder.h) hands its events
// each time it flushes, so that a long run never holds them all in memory.
#pragma once

#include "traces/trace_events.h"

namespace npusim {

class TraceSink {
 public:
  virtual ~TraceSink() = default;

  // One flush: the events recorded since the previous one, in recording
  // order. buffer_windows are partial sums: the same buffer and window may
  // come again in a later batch with more bytes, to be added. buffer_names,
  // dram_channel_count, truncated and max_events are the recorder's state so
  // far (cumulative, not per batch).
  virtual void consume(TraceEvents batch) = 0;
};

}  // namespace npusim
