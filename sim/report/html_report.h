// The HTML report of `npusim run --html` and `npusim compare --html`: one
// self-contained file (inline CSS and SVG, no scripts, no network references),
// deterministic (same inputs, same bytes), written atomically.
#pragma once

#include <string>
#include <vector>

#include "sim/report/report.h"
#include "traces/trace_events.h"
#include "traces/trace_summary.h"

namespace npusim {

// Most windows the time charts draw: the trace's windows are merged into
// whole multiples of its own window to stay under this.
inline constexpr std::int64_t kHtmlMaxChartWindows = 300;

// `events` (nullable): the run's trace, the source of the bandwidth and
// utilization charts; `trace_window_ps` the window its buffer traffic was
// summed over. Chart ids: energy-chart, dram-bandwidth-chart,
// sram-bandwidth-chart, utilization-chart, roofline-chart; per-layer table id
// layer-table, one <tr class="layer-row"> per layer.
std::string render_run_html(const RunReport& report, const TraceEvents* events, std::int64_t trace_window_ps);
void write_run_html(const std::string& path, const RunReport& report, const TraceEvents* events,
                    std::int64_t trace_window_ps);
// The same from the trace's per-window aggregates (nullable), as a streaming
// run keeps them: summarize_trace(events, trace_window_ps) gives the same page.
std::string render_run_html(const RunReport& report, const TraceSummary* trace);
void write_run_html(const std::string& path, const RunReport& report, const TraceSummary* trace);

// What `npusim compare` shows: its tables as printed (header row first) and the
// charted values per design, parallel to design_labels.
struct CompareHtml {
  std::string title;
  std::vector<std::string> design_labels;
  std::vector<std::vector<std::string>> table;
  std::vector<std::vector<std::string>> energy_table;  // the energy breakdown
  std::vector<std::string> energy_part_names;
  std::vector<std::vector<double>> energy_parts_uj;  // [design][part], stacked
  std::vector<double> latency_us, dram_bytes, area_mm2;
};

// Chart ids: compare-energy-chart (stacked by energy part),
// compare-latency-chart, compare-dram-chart, compare-area-chart; table ids
// compare-table, compare-energy-table.
std::string render_compare_html(const CompareHtml& compare);
void write_compare_html(const std::string& path, const CompareHtml& compare);

}  // namespace npusim
