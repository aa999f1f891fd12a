#include "traces/traffic_timeline.h"

#include <algorithm>
#include <stdexcept>

#include "traces/window_split.h"

namespace npusim {

WindowBytes TrafficSeries::at(std::int64_t window) const {
  const auto found = windows.find(window);
  return found == windows.end() ? WindowBytes{} : found->second;
}

std::vector<std::pair<std::int64_t, WindowBytes>> TrafficSeries::change_points() const {
  const WindowBytes zero{};
  std::vector<std::pair<std::int64_t, WindowBytes>> points{{0, zero}};
  WindowBytes current = zero;
  std::int64_t next_window = 0;  // first window not covered by an entry yet
  for (const auto& [window, bytes] : windows) {
    if (window > next_window && current != zero) {
      points.emplace_back(next_window, zero);
      current = zero;
    }
    if (bytes != current) {
      if (points.back().first == window) {
        points.back().second = bytes;
      } else {
        points.emplace_back(window, bytes);
      }
      current = bytes;
    }
    next_window = window + 1;
  }
  if (current != zero) points.emplace_back(next_window, zero);
  return points;
}

void add_series_bytes(TrafficSeries& series, std::int64_t start_ps, std::int64_t end_ps, std::int64_t bytes,
                      bool is_write, std::int64_t window_ps) {
  split_over_windows(start_ps, end_ps, bytes, window_ps, [&](std::int64_t window, std::int64_t part) {
    WindowBytes& slot = series.windows[window];
    (is_write ? slot.write_bytes : slot.read_bytes) += part;
  });
}

TrafficSeries& series_named(std::vector<TrafficSeries>& buffers, const std::string& name) {
  const auto found = std::lower_bound(buffers.begin(), buffers.end(), name,
                                      [](const TrafficSeries& s, const std::string& n) { return s.name < n; });
  if (found != buffers.end() && found->name == name) return *found;
  return *buffers.insert(found, TrafficSeries{name, {}});
}

TrafficTimeline build_traffic_timeline(const TraceEvents& events, std::int64_t window_ps) {
  check_interval(0, 0, 0, window_ps);
  TrafficTimeline timeline;
  timeline.window_ps = window_ps;

  for (const std::string& name : events.buffer_names) series_named(timeline.buffers, name);
  for (const BufferAccessWindow& w : events.buffer_windows) {
    TrafficSeries& series = series_named(timeline.buffers, w.buffer);
    const std::int64_t end_ps = w.window_start_ps + w.window_length_ps;
    add_series_bytes(series, w.window_start_ps, end_ps, w.read_bytes, false, window_ps);
    add_series_bytes(series, w.window_start_ps, end_ps, w.write_bytes, true, window_ps);
  }

  timeline.dma.name = "dma";
  for (const TransferEvent& t : events.transfers)
    add_series_bytes(timeline.dma, t.start_ps, t.end_ps, t.bytes, t.is_write, window_ps);

  int channels = std::max(events.dram_channel_count, 0);
  for (const DramCommandEvent& c : events.dram_commands) {
    if (c.channel < 0) throw std::invalid_argument("DRAM command with negative channel " + std::to_string(c.channel));
    channels = std::max(channels, c.channel + 1);
  }
  timeline.dram_channels.resize(static_cast<std::size_t>(channels));
  for (int ch = 0; ch < channels; ++ch) timeline.dram_channels[ch].name = "dram_ch" + std::to_string(ch);
  for (const DramCommandEvent& c : events.dram_commands) {
    if (c.command != DramCommandKind::rd && c.command != DramCommandKind::wr) continue;
    add_series_bytes(timeline.dram_channels[c.channel], c.time_ps, c.time_ps, c.data_bytes,
                     c.command == DramCommandKind::wr, window_ps);
  }

  // Every event's last window, not only the traffic's: the timeline spans the run.
  std::int64_t count = 0;
  auto cover = [&](std::int64_t start_ps, std::int64_t end_ps) {
    check_interval(start_ps, end_ps, 0, window_ps);
    count = std::max(count, last_window_of(start_ps, end_ps, window_ps) + 1);
  };
  for (const TransferEvent& e : events.transfers) cover(e.start_ps, e.end_ps);
  for (const DramCommandEvent& e : events.dram_commands) cover(e.time_ps, e.time_ps);
  for (const ComputeEvent& e : events.computes) cover(e.start_ps, e.end_ps);
  for (const StallEvent& e : events.stalls) cover(e.start_ps, e.end_ps);
  for (const BufferAccessWindow& e : events.buffer_windows) {
    cover(e.window_start_ps, e.window_start_ps + e.window_length_ps);
  }
  timeline.window_count = count;
  return timeline;
}

std::int64_t trace_end_ps(const TraceEvents& events) {
  std::int64_t end = 0;
  for (const TransferEvent& e : events.transfers) end = std::max(end, e.end_ps);
  for (const DramCommandEvent& e : events.dram_commands) end = std::max(end, e.time_ps);
  for (const ComputeEvent& e : events.computes) end = std::max(end, e.end_ps);
  for (const StallEvent& e : events.stalls) end = std::max(end, e.end_ps);
  for (const BufferAccessWindow& e : events.buffer_windows) end = std::max(end, e.window_start_ps + e.window_length_ps);
  return end;
}

double gigabytes_per_second(std::int64_t bytes, std::int64_t window_ps) {
  return static_cast<double>(bytes) * 1000.0 / static_cast<double>(window_ps);
}

std::int64_t megabytes_per_second(std::int64_t bytes, std::int64_t window_ps) {
  const __int128 scaled = static_cast<__int128>(bytes) * 1'000'000;
  return static_cast<std::int64_t>((scaled + window_ps / 2) / window_ps);
}

}  // namespace npusim
