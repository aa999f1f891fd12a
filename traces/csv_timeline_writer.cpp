#include "traces/csv_timeline_writer.h"

#include <charconv>
#include <filesystem>
#include <ostream>
#include <vector>

#include "traces/trace_file_output.h"
#include "traces/traffic_timeline.h"

namespace npusim {
namespace {

// Shortest round-trip form: deterministic and exact.
void put_double(std::ostream& out, double value) {
  char text[64];
  const auto result = std::to_chars(text, text + sizeof text, value);
  out.write(text, result.ptr - text);
}

void put_header(std::ostream& out, const std::string& prefix) {
  out << ',' << prefix << "_read_bytes," << prefix << "_read_gbps," << prefix << "_write_bytes," << prefix
      << "_write_gbps";
}

void put_cells(std::ostream& out, const WindowBytes& bytes, std::int64_t window_ps) {
  out << ',' << bytes.read_bytes << ',';
  put_double(out, gigabytes_per_second(bytes.read_bytes, window_ps));
  out << ',' << bytes.write_bytes << ',';
  put_double(out, gigabytes_per_second(bytes.write_bytes, window_ps));
}

}  // namespace

void write_csv_timeline(const TraceEvents& events, std::ostream& out, const CsvTimelineOptions& options) {
  write_csv_timeline(build_traffic_timeline(events, options.window_ps), out);
}

void write_csv_timeline(const TrafficTimeline& traffic, std::ostream& out) {
  out << "window_start_us";
  for (const TrafficSeries& s : traffic.buffers) put_header(out, s.name);
  put_header(out, traffic.dma.name);
  for (const TrafficSeries& s : traffic.dram_channels) put_header(out, s.name);
  out << '\n';

  // Walk each series' sparse windows alongside the rows instead of a lookup per cell.
  std::vector<const TrafficSeries*> series;
  for (const TrafficSeries& s : traffic.buffers) series.push_back(&s);
  series.push_back(&traffic.dma);
  for (const TrafficSeries& s : traffic.dram_channels) series.push_back(&s);
  std::vector<std::map<std::int64_t, WindowBytes>::const_iterator> next;
  for (const TrafficSeries* s : series) next.push_back(s->windows.begin());

  for (std::int64_t w = 0; w < traffic.window_count; ++w) {
    put_double(out, static_cast<double>(w * traffic.window_ps) / 1e6);
    for (std::size_t i = 0; i < series.size(); ++i) {
      WindowBytes bytes;
      if (next[i] != series[i]->windows.end() && next[i]->first == w) {
        bytes = next[i]->second;
        ++next[i];
      }
      put_cells(out, bytes, traffic.window_ps);
    }
    out << '\n';
  }
}

std::string timeline_note_path(const std::string& csv_path) {
  std::filesystem::path path(csv_path);
  return (path.parent_path() / (path.stem().string() + ".truncated.txt")).string();
}

void write_csv_timeline(const TrafficTimeline& traffic, const std::string& truncation, const std::string& path) {
  write_trace_file(path, [&](std::ostream& out) { write_csv_timeline(traffic, out); });
  const std::string note = timeline_note_path(path);
  if (truncation.empty()) {
    std::error_code ignored;
    std::filesystem::remove(note, ignored);  // a complete trace: no stale note from an earlier run
    return;
  }
  write_trace_file(note, [&](std::ostream& out) { out << truncation << '\n'; });
}

void write_csv_timeline(const TraceEvents& events, const std::string& path, const CsvTimelineOptions& options) {
  write_csv_timeline(build_traffic_timeline(events, options.window_ps), truncation_message(events), path);
}

}  // namespace npusim
