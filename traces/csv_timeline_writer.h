// Writes a trace as a CSV timeline: one row per time window from 0 to the end
// of the last event, the bytes each SRAM buffer and DRAM channel moved in it
// and the rate that makes (traces/traffic_timeline.h says where the bytes come
// from and how an interval is split between windows).
//
// Columns: window_start_us, then for each buffer B (sorted by name)
//   B_read_bytes, B_read_gbps, B_write_bytes, B_write_gbps,
// then the DMA's transfers (read: loads into the chip, write: write-backs)
//   dma_read_bytes, dma_read_gbps, dma_write_bytes, dma_write_gbps,
// then for each DRAM channel N
//   dram_chN_read_bytes, dram_chN_read_gbps, dram_chN_write_bytes, dram_chN_write_gbps.
// Bytes are integers; times and rates are the shortest decimal that reads
// back as the same double. Only data: pandas.read_csv reads it as it is. When
// the trace was truncated, the note "trace truncated at N events (limit
// --trace-max-events)" goes to a sidecar file beside it
// (timeline_note_path()), which is removed when the trace is complete.
// Deterministic: same events, same bytes.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

#include "traces/trace_events.h"
#include "traces/traffic_timeline.h"

namespace npusim {

struct CsvTimelineOptions {
  std::int64_t window_ps = 1'000'000;  // one row per window of this length
};

void write_csv_timeline(const TraceEvents& events, std::ostream& out, const CsvTimelineOptions& options = {});

// The same from the windows' bytes (build_traffic_timeline(), or a streaming
// run's traces/trace_summary.h): one row per window of `traffic`.
void write_csv_timeline(const TrafficTimeline& traffic, std::ostream& out);

// "dir/timeline.csv" -> "dir/timeline.truncated.txt"
std::string timeline_note_path(const std::string& csv_path);

// To `<path>.tmp`, then renamed; the sidecar note written when `truncation`
// is not empty, removed otherwise. Throws std::runtime_error naming the path.
void write_csv_timeline(const TrafficTimeline& traffic, const std::string& truncation, const std::string& path);
void write_csv_timeline(const TraceEvents& events, const std::string& path, const CsvTimelineOptions& options = {});

}  // namespace npusim
