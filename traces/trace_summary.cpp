#include "traces/trace_summary.h"

#include <algorithm>
#include <stdexcept>

#include "traces/window_split.h"

namespace npusim {
TraceAggregator::TraceAggregator(std::int64_t window_ps) : window_ps_(window_ps) {
  check_interval(0, 0, 0, window_ps);
  dma_.name = "dma";
}

void TraceAggregator::add(const TraceEvents& batch) {
  auto cover = [&](std::int64_t start_ps, std::int64_t end_ps) {
    check_interval(start_ps, end_ps, 0, window_ps_);
    window_count_ = std::max(window_count_, last_window_of(start_ps, end_ps, window_ps_) + 1);
    end_ps_ = std::max(end_ps_, end_ps);
  };
  for (const std::string& name : batch.buffer_names) {
    if (std::find(buffer_names_.begin(), buffer_names_.end(), name) == buffer_names_.end()) {
      buffer_names_.push_back(name);
    }
  }
  for (const BufferAccessWindow& w : batch.buffer_windows) {
    cover(w.window_start_ps, w.window_start_ps + w.window_length_ps);
    check_interval(w.window_start_ps, w.window_start_ps, w.read_bytes, 1);
    check_interval(w.window_start_ps, w.window_start_ps, w.write_bytes, 1);
    WindowBytes& bytes = buffer_windows_[{w.buffer, w.window_start_ps, w.window_length_ps}];
    bytes.read_bytes += w.read_bytes;
    bytes.write_bytes += w.write_bytes;
  }
  for (const TransferEvent& t : batch.transfers) {
    cover(t.start_ps, t.end_ps);
    add_series_bytes(dma_, t.start_ps, t.end_ps, t.bytes, t.is_write, window_ps_);
  }
  declared_channels_ = std::max(declared_channels_, batch.dram_channel_count);
  for (const DramCommandEvent& c : batch.dram_commands) {
    if (c.channel < 0) throw std::invalid_argument("DRAM command with negative channel " + std::to_string(c.channel));
    cover(c.time_ps, c.time_ps);
    if (static_cast<std::size_t>(c.channel) >= dram_channels_.size()) {
      dram_channels_.resize(static_cast<std::size_t>(c.channel) + 1);
    }
    if (c.command != DramCommandKind::rd && c.command != DramCommandKind::wr) continue;
    add_series_bytes(dram_channels_[static_cast<std::size_t>(c.channel)], c.time_ps, c.time_ps, c.data_bytes,
                     c.command == DramCommandKind::wr, window_ps_);
  }
  for (const ComputeEvent& c : batch.computes) {
    cover(c.start_ps, c.end_ps);
    if (c.unit != ComputeUnit::array) continue;
    for (std::int64_t w = c.start_ps / window_ps_; w * window_ps_ < c.end_ps; ++w) {
      const std::int64_t lo = std::max(c.start_ps, w * window_ps_);
      const std::int64_t hi = std::min(c.end_ps, (w + 1) * window_ps_);
      if (hi > lo) array_busy_ps_[w] += hi - lo;
    }
  }
  for (const StallEvent& s : batch.stalls) cover(s.start_ps, s.end_ps);
  TraceEvents flags;
  flags.truncated = batch.truncated;
  flags.max_events = batch.max_events;
  if (batch.truncated) truncation_ = truncation_message(flags);
}

std::vector<BufferAccessWindow> TraceAggregator::buffer_windows() const {
  std::vector<BufferAccessWindow> out;
  out.reserve(buffer_windows_.size());
  for (const auto& [key, bytes] : buffer_windows_) {
    const auto& [buffer, start_ps, length_ps] = key;
    out.push_back(BufferAccessWindow{buffer, start_ps, length_ps, bytes.read_bytes, bytes.write_bytes});
  }
  return out;
}

TraceSummary TraceAggregator::summary() const {
  TraceSummary s;
  TrafficTimeline& t = s.traffic;
  t.window_ps = window_ps_;
  t.window_count = window_count_;
  for (const std::string& name : buffer_names_) series_named(t.buffers, name);
  // Whole windows only: splitting a partial sum would round differently.
  for (const auto& [key, bytes] : buffer_windows_) {
    const auto& [buffer, start_ps, length_ps] = key;
    TrafficSeries& series = series_named(t.buffers, buffer);
    add_series_bytes(series, start_ps, start_ps + length_ps, bytes.read_bytes, false, window_ps_);
    add_series_bytes(series, start_ps, start_ps + length_ps, bytes.write_bytes, true, window_ps_);
  }
  t.dma = dma_;
  t.dram_channels = dram_channels_;
  if (t.dram_channels.size() < static_cast<std::size_t>(declared_channels_)) {
    t.dram_channels.resize(static_cast<std::size_t>(declared_channels_));
  }
  for (std::size_t ch = 0; ch < t.dram_channels.size(); ++ch) t.dram_channels[ch].name = "dram_ch" + std::to_string(ch);
  s.array_busy_ps = array_busy_ps_;
  s.end_ps = end_ps_;
  s.truncation = truncation_;
  return s;
}

TraceSummary summarize_trace(const TraceEvents& events, std::int64_t window_ps) {
  TraceAggregator aggregator(window_ps);
  aggregator.add(events);
  return aggregator.summary();
}

TrafficTimeline coarsen(const TrafficTimeline& timeline, std::int64_t factor) {
  if (factor < 1) throw std::invalid_argument("coarsen: factor must be >= 1, got " + std::to_string(factor));
  auto coarse = [&](const TrafficSeries& fine) {
    TrafficSeries out{fine.name, {}};
    for (const auto& [window, bytes] : fine.windows) {
      WindowBytes& slot = out.windows[window / factor];
      slot.read_bytes += bytes.read_bytes;
      slot.write_bytes += bytes.write_bytes;
    }
    return out;
  };
  TrafficTimeline out;
  out.window_ps = timeline.window_ps * factor;
  out.window_count = (timeline.window_count + factor - 1) / factor;
  for (const TrafficSeries& s : timeline.buffers) out.buffers.push_back(coarse(s));
  out.dma = coarse(timeline.dma);
  for (const TrafficSeries& s : timeline.dram_channels) out.dram_channels.push_back(coarse(s));
  return out;
}

}  // namespace npusim
