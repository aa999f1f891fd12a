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

// One track's intervals, where each came from, their time order and lanes.
struct Track {
  std::vector<Interval> spans;
  std::vector<std::size_t> source;  // per span: an index into the events it shows
  std::vector<std::size_t> order;
  Lanes lanes;
  void add(std::int64_t start_ps, std::int64_t end_ps, std::size_t from) {
    spans.push_back({start_ps, end_ps});
    source.push_back(from);
  }
  void lay_out() {
    order = time_order(spans);
    lanes = assign_lanes(spans, order);
  }
};

struct Tracks {
  // Folds and stalls share the array track, so they are laid out together:
  // source < computes.size() is a compute, else computes.size() + a stall.
  Track array, ppu;
  Track dma;                   // only its time order: DmaQueueTracks gives the lanes, per queue
  std::vector<Track> buffers;  // parallel to the timeline's buffers
};

Tracks lay_out_tracks(const TraceEvents& events, const TrafficTimeline& traffic) {
  Tracks tracks;
  for (std::size_t i = 0; i < events.computes.size(); ++i) {
    const ComputeEvent& c = events.computes[i];
    (c.unit == ComputeUnit::array ? tracks.array : tracks.ppu).add(c.start_ps, c.end_ps, i);
  }
  for (std::size_t i = 0; i < events.stalls.size(); ++i) {
    tracks.array.add(events.stalls[i].start_ps, events.stalls[i].end_ps, events.computes.size() + i);
  }
  for (std::size_t i = 0; i < events.transfers.size(); ++i) {
    tracks.dma.add(events.transfers[i].start_ps, events.transfers[i].end_ps, i);
  }
  tracks.buffers.resize(traffic.buffers.size());
  for (std::size_t i = 0; i < events.buffer_windows.size(); ++i) {
    const BufferAccessWindow& w = events.buffer_windows[i];
    const auto found = std::find_if(traffic.buffers.begin(), traffic.buffers.end(),
                                    [&](const TrafficSeries& s) { return s.name == w.buffer; });
    const auto b = static_cast<std::size_t>(found - traffic.buffers.begin());
    tracks.buffers[b].add(w.window_start_ps, w.window_start_ps + w.window_length_ps, i);
  }
  for (Track* track : {&tracks.array, &tracks.ppu, &tracks.dma}) track->lay_out();
  for (Track& track : tracks.buffers) track.lay_out();
  return tracks;
}

// DRAM commands in time order (ties: as recorded), one track per channel.
void write_dram_commands(EventStream& stream, const TraceEvents& events, const std::vector<int>& channel_tid) {
  std::vector<std::size_t> order(events.dram_commands.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return events.dram_commands[a].time_ps < events.dram_commands[b].time_ps;
  });
  for (std::size_t i : order) {
    const DramCommandEvent& c = events.dram_commands[i];
    stream.add(dram_command_event(c, channel_tid[static_cast<std::size_t>(c.channel)]));
  }
}

}  // namespace

void write_chrome_trace(const TraceEvents& events, std::ostream& out, const ChromeTraceOptions& options) {
  const TrafficTimeline traffic = build_traffic_timeline(events, options.bandwidth_window_ps);
  const Tracks laid = lay_out_tracks(events, traffic);
  TrackTable tracks;
  const int array_tid = tracks.add("array", laid.array.lanes.count);
  const int ppu_tid = tracks.add("ppu", laid.ppu.lanes.count);
  DmaQueueTracks dma;
  for (std::size_t i : laid.dma.order) dma.count(events.transfers[i]);
  dma.add_tracks(tracks);
  std::vector<int> channel_tid;
  for (std::size_t ch = 0; ch < traffic.dram_channels.size(); ++ch) {
    channel_tid.push_back(tracks.add("dram ch" + std::to_string(ch), 1));
  }
  std::vector<int> buffer_tid;
  for (std::size_t b = 0; b < traffic.buffers.size(); ++b) {
    buffer_tid.push_back(tracks.add("sram " + traffic.buffers[b].name, laid.buffers[b].lanes.count));
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
  for (const auto& [track, tid] : {std::pair{&laid.array, array_tid}, std::pair{&laid.ppu, ppu_tid}}) {
    for (std::size_t i : track->order) write_compute_or_stall(track->source[i], tid + track->lanes.lane_of[i]);
  }
  for (std::size_t i : laid.dma.order) stream.add(transfer_event(events.transfers[i], dma.place(events.transfers[i])));
  write_dram_commands(stream, events, channel_tid);
  for (std::size_t b = 0; b < traffic.buffers.size(); ++b) {
    const Track& track = laid.buffers[b];
    for (std::size_t i : track.order) {
      stream.add(buffer_window_event(events.buffer_windows[track.source[i]], buffer_tid[b] + track.lanes.lane_of[i]));
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
