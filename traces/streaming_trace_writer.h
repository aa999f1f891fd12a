// Writes a run's trace files while it runs, so memory stays bounded however
// many events the run makes: a TraceSink (traces/trace_sink.h) that a
// streaming TraceRecorder flushes into every N events.
//
// Per flush, the batch's transfers, DRAM commands, folds and stalls go to
// sorted runs in spill files (traces/trace_spill.h) in a hidden directory of
// the trace directory, and their bytes and busy time are added to per-window
// aggregates (traces/trace_summary.h). finish() writes trace.json,
// timeline.csv and trace.vcd from those: merging the runs puts each track's
// events in the order the in-memory writers sort them (time, then input
// order), so the files are byte for byte what write_chrome_trace(),
// write_csv_timeline() and write_vcd_trace() write for the same events. Each
// file is written to a temporary name and renamed when complete; the spill
// directory is removed when the writer is destroyed.
//
// Memory: one flush's events, the aggregates (a few numbers per window with
// traffic), the string table of layer and buffer names, and while merging a
// small chunk per spilled run.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "traces/trace_sink.h"
#include "traces/trace_spill.h"
#include "traces/trace_summary.h"

namespace npusim {

struct StreamingTraceOptions {
  // Where the trace files and the spill directory go ("" keeps only the
  // aggregates: no files, nothing spilled, for the HTML report alone).
  std::string dir;
  // Bandwidth window of every file (as ChromeTraceOptions, CsvTimelineOptions
  // and VcdOptions take it).
  std::int64_t window_ps = 1'000'000;
};

class StreamingTraceWriter : public TraceSink {
 public:
  // Creates the spill directory; throws std::runtime_error naming it on failure
  // and std::invalid_argument for window_ps <= 0.
  explicit StreamingTraceWriter(StreamingTraceOptions options);
  ~StreamingTraceWriter() override;
  StreamingTraceWriter(const StreamingTraceWriter&) = delete;
  StreamingTraceWriter& operator=(const StreamingTraceWriter&) = delete;

  // Throws std::invalid_argument for invalid events (as the writers do).
  void consume(TraceEvents batch) override;

  // After the recorder's last flush(): writes <dir>/trace.json, timeline.csv
  // (and timeline.truncated.txt for a truncated trace), trace.vcd and trace.gtkw. Throws std::runtime_error naming a
  // file that cannot be written. No-op without a directory.
  void finish();

  // The per-window aggregates of everything consumed so far.
  TraceSummary summary() const { return aggregator_.summary(); }
  // Events written to spill files so far.
  std::int64_t spilled_event_count() const;

 private:
  int intern(const std::string& text);
  void write_chrome(const TraceSummary& summary);
  void write_vcd(const TraceSummary& summary);

  StreamingTraceOptions options_;
  std::string spill_dir_;
  TraceAggregator aggregator_;
  std::vector<std::string> strings_;
  std::unordered_map<std::string, int> string_ids_;
  // Tracks as the Chrome writer lays them out: array (folds and stalls), ppu,
  // dma; and the DRAM commands.
  std::unique_ptr<SpillStore> array_, ppu_, dma_, dram_;
  std::int64_t compute_seq_ = 0, stall_seq_ = 0, transfer_seq_ = 0, command_seq_ = 0;
};

}  // namespace npusim
