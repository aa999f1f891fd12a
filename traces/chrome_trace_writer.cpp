#include "traces/chrome_trace_writer.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <numeric>
#include <ostream>
#include <vector>

#include "traces/trace_file_output.h"
#include "traces/traffic_timeline.h"
#include "traces/window_split.h"

namespace npusim {
namespace {

using Json = nlohmann::ordered_json;  // keys in insertion order: stable, readable output
constexpr int kPid = 1;

double to_us(std::int64_t ps) { return static_cast<double>(ps) / 1e6; }

struct Interval {
  std::int64_t start_ps = 0;
  std::int64_t end_ps = 0;
};

// Indices by start, then end; ties keep input order.
std::vector<std::size_t> time_order(const std::vector<Interval>& intervals) {
  std::vector<std::size_t> order(intervals.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (intervals[a].start_ps != intervals[b].start_ps) return intervals[a].start_ps < intervals[b].start_ps;
    return intervals[a].end_ps < intervals[b].end_ps;
  });
  return order;
}

// Lane of each interval, in time order: the first lane free by its start.
struct Lanes {
  std::vector<int> lane_of;
  int count = 1;
};

Lanes assign_lanes(const std::vector<Interval>& intervals, const std::vector<std::size_t>& order) {
  Lanes lanes;
  lanes.lane_of.resize(intervals.size());
  std::vector<std::int64_t> lane_end;
  for (std::size_t i : order) {
    std::size_t lane = 0;
    while (lane < lane_end.size() && lane_end[lane] > intervals[i].start_ps) ++lane;
    if (lane == lane_end.size()) lane_end.push_back(0);
    lane_end[lane] = intervals[i].end_ps;
    lanes.lane_of[i] = static_cast<int>(lane);
  }
  lanes.count = std::max<int>(1, static_cast<int>(lane_end.size()));
  return lanes;
}

class EventStream {
 public:
  explicit EventStream(std::ostream& out) : out_(out) {}
  void add(const Json& event) {
    out_ << (first_ ? "\n" : ",\n") << event.dump();
    first_ = false;
  }

 private:
  std::ostream& out_;
  bool first_ = true;
};

class TrackTable {
 public:
  // Registers `lanes` tracks named name, "name #2"...; returns the first tid.
  int add(const std::string& name, int lanes) {
    const int first = static_cast<int>(names_.size()) + 1;
    for (int lane = 0; lane < lanes; ++lane) {
      names_.push_back(lane == 0 ? name : name + " #" + std::to_string(lane + 1));
    }
    return first;
  }
  void write_metadata(EventStream& stream) const {
    // "ts" is meaningless for metadata, but some Perfetto versions reject events without it.
    stream.add(Json{{"name", "process_name"}, {"ph", "M"}, {"ts", 0.0}, {"pid", kPid}, {"args", {{"name", "npusim"}}}});
    for (std::size_t i = 0; i < names_.size(); ++i) {
      const int tid = static_cast<int>(i) + 1;
      stream.add(Json{{"name", "thread_name"},
                      {"ph", "M"},
                      {"ts", 0.0},
                      {"pid", kPid},
                      {"tid", tid},
                      {"args", {{"name", names_[i]}}}});
      stream.add(Json{{"name", "thread_sort_index"},
                      {"ph", "M"},
                      {"ts", 0.0},
                      {"pid", kPid},
                      {"tid", tid},
                      {"args", {{"sort_index", tid}}}});
    }
  }

 private:
  std::vector<std::string> names_;
};

Json complete_event(const std::string& name, const char* category, const Interval& span, int tid, Json args) {
  return Json{{"name", name},
              {"cat", category},
              {"ph", "X"},
              {"ts", to_us(span.start_ps)},
              {"dur", to_us(span.end_ps - span.start_ps)},
              {"pid", kPid},
              {"tid", tid},
              {"args", std::move(args)}};
}

// One counter per direction, each with a single series named by its unit:
// the Trace Event Format allows several series per counter, but single-series
// counters read the same in every viewer (Perfetto names the track
// "<name> GB/s").
void write_counter(EventStream& stream, const std::string& component, const TrafficSeries& series,
                   std::int64_t window_ps) {
  const auto points = series.change_points();
  for (const bool is_write : {false, true}) {
    const std::string name = component + (is_write ? " write" : " read");
    std::int64_t last_bytes = -1;
    for (const auto& [window, bytes] : points) {
      const std::int64_t direction_bytes = is_write ? bytes.write_bytes : bytes.read_bytes;
      if (direction_bytes == last_bytes) continue;
      last_bytes = direction_bytes;
      stream.add(Json{{"name", name},
                      {"cat", "bandwidth"},
                      {"ph", "C"},
                      {"ts", to_us(window * window_ps)},
                      {"pid", kPid},
                      {"args", {{"GB/s", gigabytes_per_second(direction_bytes, window_ps)}}}});
    }
  }
}

}  // namespace

void write_chrome_trace(const TraceEvents& events, std::ostream& out, const ChromeTraceOptions& options) {
  const TrafficTimeline traffic = build_traffic_timeline(events, options.bandwidth_window_ps);

  // Array track: folds and stalls share it, so they are laid out together.
  std::vector<Interval> array_spans, ppu_spans, dma_spans;
  std::vector<std::size_t> array_source, ppu_source;  // index into computes, or computes.size() + stall index
  for (std::size_t i = 0; i < events.computes.size(); ++i) {
    const ComputeEvent& c = events.computes[i];
    (c.unit == ComputeUnit::array ? array_spans : ppu_spans).push_back({c.start_ps, c.end_ps});
    (c.unit == ComputeUnit::array ? array_source : ppu_source).push_back(i);
  }
  for (std::size_t i = 0; i < events.stalls.size(); ++i) {
    array_spans.push_back({events.stalls[i].start_ps, events.stalls[i].end_ps});
    array_source.push_back(events.computes.size() + i);
  }
  for (const TransferEvent& t : events.transfers) dma_spans.push_back({t.start_ps, t.end_ps});
  std::vector<std::vector<Interval>> buffer_spans(traffic.buffers.size());
  std::vector<std::vector<std::size_t>> buffer_source(traffic.buffers.size());
  for (std::size_t i = 0; i < events.buffer_windows.size(); ++i) {
    const BufferAccessWindow& w = events.buffer_windows[i];
    const auto found = std::find_if(traffic.buffers.begin(), traffic.buffers.end(),
                                    [&](const TrafficSeries& s) { return s.name == w.buffer; });
    const std::size_t b = static_cast<std::size_t>(found - traffic.buffers.begin());
    buffer_spans[b].push_back({w.window_start_ps, w.window_start_ps + w.window_length_ps});
    buffer_source[b].push_back(i);
  }

  const std::vector<std::size_t> array_order = time_order(array_spans);
  const std::vector<std::size_t> ppu_order = time_order(ppu_spans);
  const std::vector<std::size_t> dma_order = time_order(dma_spans);
  const Lanes array_lanes = assign_lanes(array_spans, array_order);
  const Lanes ppu_lanes = assign_lanes(ppu_spans, ppu_order);
  const Lanes dma_lanes = assign_lanes(dma_spans, dma_order);

  TrackTable tracks;
  const int array_tid = tracks.add("array", array_lanes.count);
  const int ppu_tid = tracks.add("ppu", ppu_lanes.count);
  const int dma_tid = tracks.add("dma", dma_lanes.count);
  std::vector<int> channel_tid;
  for (std::size_t ch = 0; ch < traffic.dram_channels.size(); ++ch) {
    channel_tid.push_back(tracks.add("dram ch" + std::to_string(ch), 1));
  }
  std::vector<std::vector<std::size_t>> buffer_order;
  std::vector<Lanes> buffer_lanes;
  std::vector<int> buffer_tid;
  for (std::size_t b = 0; b < traffic.buffers.size(); ++b) {
    buffer_order.push_back(time_order(buffer_spans[b]));
    buffer_lanes.push_back(assign_lanes(buffer_spans[b], buffer_order[b]));
    buffer_tid.push_back(tracks.add("sram " + traffic.buffers[b].name, buffer_lanes[b].count));
  }

  // otherData values are strings, as viewers expect.
  Json other{{"generator", "npusim"}, {"bandwidth_window", std::to_string(options.bandwidth_window_ps) + " ps"}};
  const std::string truncated = truncation_message(events);
  if (!truncated.empty()) other["truncated"] = truncated;
  out << "{\"displayTimeUnit\":\"ns\",\"otherData\":" << other.dump() << ",\"traceEvents\":[";
  EventStream stream(out);
  tracks.write_metadata(stream);

  auto write_compute_or_stall = [&](std::size_t source, const Interval& span, int tid) {
    if (source < events.computes.size()) {
      const ComputeEvent& c = events.computes[source];
      stream.add(
          complete_event(c.layer + " fold " + std::to_string(c.fold_index), "compute", span, tid,
                         Json{{"layer", c.layer}, {"fold", c.fold_index}, {"unit", std::string(to_string(c.unit))}}));
    } else {
      const StallEvent& s = events.stalls[source - events.computes.size()];
      const std::string cause(to_string(s.cause));
      stream.add(complete_event("stall: " + cause, "stall", span, tid, Json{{"layer", s.layer}, {"cause", cause}}));
    }
  };
  for (std::size_t i : array_order) {
    write_compute_or_stall(array_source[i], array_spans[i], array_tid + array_lanes.lane_of[i]);
  }
  for (std::size_t i : ppu_order) write_compute_or_stall(ppu_source[i], ppu_spans[i], ppu_tid + ppu_lanes.lane_of[i]);

  for (std::size_t i : dma_order) {
    const TransferEvent& t = events.transfers[i];
    stream.add(complete_event(t.source + " -> " + t.destination, "dma", dma_spans[i], dma_tid + dma_lanes.lane_of[i],
                              Json{{"bytes", t.bytes},
                                   {"buffer", t.buffer},
                                   {"source", t.source},
                                   {"destination", t.destination},
                                   {"layer", t.layer},
                                   {"is_write", t.is_write}}));
  }

  std::vector<std::size_t> command_order(events.dram_commands.size());
  std::iota(command_order.begin(), command_order.end(), std::size_t{0});
  std::stable_sort(command_order.begin(), command_order.end(), [&](std::size_t a, std::size_t b) {
    return events.dram_commands[a].time_ps < events.dram_commands[b].time_ps;
  });
  for (std::size_t i : command_order) {
    const DramCommandEvent& c = events.dram_commands[i];
    Json args{{"rank", c.rank}, {"bank_group", c.bank_group}, {"bank", c.bank}, {"row", c.row}};
    if (c.command == DramCommandKind::rd || c.command == DramCommandKind::wr) args["bytes"] = c.data_bytes;
    stream.add(Json{{"name", std::string(to_string(c.command))},
                    {"cat", "dram"},
                    {"ph", "i"},
                    {"s", "t"},
                    {"ts", to_us(c.time_ps)},
                    {"pid", kPid},
                    {"tid", channel_tid[static_cast<std::size_t>(c.channel)]},
                    {"args", std::move(args)}});
  }

  for (std::size_t b = 0; b < traffic.buffers.size(); ++b) {
    for (std::size_t i : buffer_order[b]) {
      const BufferAccessWindow& w = events.buffer_windows[buffer_source[b][i]];
      stream.add(complete_event(w.buffer + " access", "sram", buffer_spans[b][i],
                                buffer_tid[b] + buffer_lanes[b].lane_of[i],
                                Json{{"read_bytes", w.read_bytes}, {"write_bytes", w.write_bytes}}));
    }
  }

  for (const TrafficSeries& series : traffic.buffers) {
    write_counter(stream, "sram " + series.name, series, traffic.window_ps);
  }
  write_counter(stream, "dma", traffic.dma, traffic.window_ps);
  for (std::size_t ch = 0; ch < traffic.dram_channels.size(); ++ch) {
    write_counter(stream, "dram ch" + std::to_string(ch), traffic.dram_channels[ch], traffic.window_ps);
  }

  if (!truncated.empty()) {
    stream.add(Json{{"name", truncated},
                    {"cat", "trace"},
                    {"ph", "i"},
                    {"s", "g"},
                    {"ts", to_us(trace_end_ps(events))},
                    {"pid", kPid},
                    {"tid", array_tid}});
  }
  out << "\n]}\n";
}

void write_chrome_trace(const TraceEvents& events, const std::string& path, const ChromeTraceOptions& options) {
  write_trace_file(path, [&](std::ostream& out) { write_chrome_trace(events, out, options); });
}

}  // namespace npusim
