#include "traces/chrome_trace_writer.h"

#include <algorithm>
#include <numeric>
#include <ostream>
#include <vector>

#include "traces/chrome_trace_format.h"
#include "traces/trace_file_output.h"
#include "traces/traffic_timeline.h"

namespace npusim {
namespace {

using namespace chrome_format;

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
  LaneAssigner assigner;
  for (std::size_t i : order) lanes.lane_of[i] = assigner.assign(intervals[i].start_ps, intervals[i].end_ps);
  lanes.count = assigner.count();
  return lanes;
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

  const std::string truncated = truncation_message(events);
  write_header(out, options.bandwidth_window_ps, truncated);
  EventStream stream(out);
  tracks.write_metadata(stream);

  auto write_compute_or_stall = [&](std::size_t source, int tid) {
    if (source < events.computes.size()) {
      stream.add(compute_event(events.computes[source], tid));
    } else {
      stream.add(stall_event(events.stalls[source - events.computes.size()], tid));
    }
  };
  for (std::size_t i : array_order) write_compute_or_stall(array_source[i], array_tid + array_lanes.lane_of[i]);
  for (std::size_t i : ppu_order) write_compute_or_stall(ppu_source[i], ppu_tid + ppu_lanes.lane_of[i]);
  for (std::size_t i : dma_order) stream.add(transfer_event(events.transfers[i], dma_tid + dma_lanes.lane_of[i]));

  std::vector<std::size_t> command_order(events.dram_commands.size());
  std::iota(command_order.begin(), command_order.end(), std::size_t{0});
  std::stable_sort(command_order.begin(), command_order.end(), [&](std::size_t a, std::size_t b) {
    return events.dram_commands[a].time_ps < events.dram_commands[b].time_ps;
  });
  for (std::size_t i : command_order) {
    const DramCommandEvent& c = events.dram_commands[i];
    stream.add(dram_command_event(c, channel_tid[static_cast<std::size_t>(c.channel)]));
  }

  for (std::size_t b = 0; b < traffic.buffers.size(); ++b) {
    for (std::size_t i : buffer_order[b]) {
      stream.add(buffer_window_event(events.buffer_windows[buffer_source[b][i]],
                                     buffer_tid[b] + buffer_lanes[b].lane_of[i]));
    }
  }

  write_counters(stream, traffic);
  if (!truncated.empty()) stream.add(truncation_event(truncated, trace_end_ps(events), array_tid));
  write_footer(out);
}

void write_chrome_trace(const TraceEvents& events, const std::string& path, const ChromeTraceOptions& options) {
  write_trace_file(path, [&](std::ostream& out) { write_chrome_trace(events, out, options); });
}

}  // namespace npusim
