// Writes a trace as Chrome trace event JSON (the "JSON Object Format":
// {"traceEvents": [...]}), which Perfetto (ui.perfetto.dev) and
// chrome://tracing open.
//
// Layout, all in process 1 ("npusim"), tracks (tid) in this order:
//   array   compute folds of the array and stall intervals ("ph":"X")
//   ppu     post-processing passes ("X")
//   dma     DMA transfers ("X"; args bytes, buffer, source, destination)
//   dram chN  one per channel: each command as a thread instant ("ph":"i")
//   sram B  one per buffer: its traffic per access window ("X")
// A component whose intervals overlap (many DMA transfers in flight) gets
// more lanes, "dma #2", "dma #3"..., because slices on one track must nest.
// Counter tracks ("ph":"C") "sram B read", "sram B write", "dma read",
// "dma write", "dram chN read", "dram chN write", each with one series "GB/s"
// averaged over windows of bandwidth_window_ps; a sample is written where the
// value changes, and the last one returns to 0. ts and dur are microseconds (the format's
// unit) as fractions: 1 ps = 1e-6 us. A truncated trace says so in
// otherData.truncated and in a global instant event at its end; otherData
// also names the bandwidth window ("1000000 ps").
//
// Deterministic: the same events give the same bytes (events sorted by time
// with ties kept in input order; keys in a fixed order).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

#include "traces/trace_events.h"

namespace npusim {

struct ChromeTraceOptions {
  std::int64_t bandwidth_window_ps = 1'000'000;  // counters average over windows of this length
};

void write_chrome_trace(const TraceEvents& events, std::ostream& out, const ChromeTraceOptions& options = {});

// To `<path>.tmp`, then renamed (traces/trace_file_output.h). Throws
// std::runtime_error naming the path when it cannot be written.
void write_chrome_trace(const TraceEvents& events, const std::string& path, const ChromeTraceOptions& options = {});

}  // namespace npusim
