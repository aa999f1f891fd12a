#include "traces/trace_recorder.h"

#include <algorithm>
#include <stdexcept>

#include "traces/window_split.h"

namespace npusim {
namespace {

// Runs of window indices [first, last + 1), keyed by first.
bool in_runs(const std::map<std::int64_t, std::int64_t>& runs, std::int64_t window) {
  auto after = runs.upper_bound(window);
  if (after == runs.begin()) return false;
  --after;
  return window < after->second;
}

void add_to_runs(std::map<std::int64_t, std::int64_t>& runs, std::int64_t window) {
  if (in_runs(runs, window)) return;
  auto next = runs.lower_bound(window);  // first run starting after window
  if (next != runs.begin()) {
    auto previous = std::prev(next);
    if (previous->second == window) {
      previous->second = window + 1;
      if (next != runs.end() && next->first == window + 1) {
        previous->second = next->second;
        runs.erase(next);
      }
      return;
    }
  }
  if (next != runs.end() && next->first == window + 1) {
    const std::int64_t end = next->second;
    runs.erase(next);
    runs.emplace(window, end);
    return;
  }
  runs.emplace(window, window + 1);
}

}  // namespace

void validate(const TraceLimits& limits) {
  if (limits.max_events < 0) {
    throw std::invalid_argument("trace max_events must be >= 0, got " + std::to_string(limits.max_events));
  }
  if (limits.from_ps < 0) {
    throw std::invalid_argument("trace from_ps must be >= 0, got " + std::to_string(limits.from_ps));
  }
  if (limits.to_ps <= limits.from_ps) {
    throw std::invalid_argument("trace to_ps must be greater than from_ps (" + std::to_string(limits.from_ps) +
                                "), got " + std::to_string(limits.to_ps));
  }
  if (limits.buffer_window_ps <= 0) {
    throw std::invalid_argument("trace buffer_window_ps must be > 0, got " + std::to_string(limits.buffer_window_ps));
  }
}

TraceRecorder::TraceRecorder(TraceLimits limits) : limits_(std::move(limits)) {
  validate(limits_);
  current_layer_kept_ = limits_.layers.empty();
  events_.max_events = limits_.max_events;
}

std::string TraceRecorder::truncation_message() const {
  TraceEvents flags;
  flags.truncated = truncated_;
  flags.max_events = limits_.max_events;
  return npusim::truncation_message(flags);
}

void TraceRecorder::declare_buffer(std::string_view name) {
  std::vector<std::string>& names = events_.buffer_names;
  if (std::find(names.begin(), names.end(), name) == names.end()) names.emplace_back(name);
}

void TraceRecorder::declare_dram_channels(int count) {
  events_.dram_channel_count = std::max(events_.dram_channel_count, count);
}

void TraceRecorder::set_current_layer(std::string_view layer) { current_layer_kept_ = keeps_layer(layer); }

bool TraceRecorder::keeps_layer(std::string_view layer) const {
  return limits_.layers.empty() ||
         std::find(limits_.layers.begin(), limits_.layers.end(), layer) != limits_.layers.end();
}

bool TraceRecorder::keeps_own_layer(const std::string& layer) const {
  return layer.empty() ? current_layer_kept_ : keeps_layer(layer);
}

bool TraceRecorder::in_time_range(std::int64_t start_ps, std::int64_t end_ps) const {
  if (end_ps == start_ps) return start_ps >= limits_.from_ps && start_ps < limits_.to_ps;
  return start_ps < limits_.to_ps && end_ps > limits_.from_ps;
}

bool TraceRecorder::admit() {
  if (truncated_) return false;
  if (event_count_ >= limits_.max_events) {
    truncated_ = true;
    events_.truncated = true;
    return false;
  }
  ++event_count_;
  return true;
}

void TraceRecorder::record(TransferEvent event) {
  if (truncated_) return;
  check_interval(event.start_ps, event.end_ps, event.bytes, 1);
  if (!keeps_own_layer(event.layer) || !in_time_range(event.start_ps, event.end_ps)) return;
  if (!admit()) return;
  events_.transfers.push_back(std::move(event));
  hold_one();
}

void TraceRecorder::record(const DramCommandEvent& event) {
  if (truncated_) return;
  check_interval(event.time_ps, event.time_ps, event.data_bytes, 1);
  if (!current_layer_kept_ || !in_time_range(event.time_ps, event.time_ps)) return;
  if (!admit()) return;
  events_.dram_commands.push_back(event);
  hold_one();
}

void TraceRecorder::record(ComputeEvent event) {
  if (truncated_) return;
  check_interval(event.start_ps, event.end_ps, 0, 1);
  if (!keeps_own_layer(event.layer) || !in_time_range(event.start_ps, event.end_ps)) return;
  if (!admit()) return;
  events_.computes.push_back(std::move(event));
  hold_one();
}

void TraceRecorder::record(StallEvent event) {
  if (truncated_) return;
  check_interval(event.start_ps, event.end_ps, 0, 1);
  if (!keeps_own_layer(event.layer) || !in_time_range(event.start_ps, event.end_ps)) return;
  if (!admit()) return;
  events_.stalls.push_back(std::move(event));
  hold_one();
}

TraceRecorder::BufferWindows& TraceRecorder::windows_of(std::string_view buffer) {
  for (BufferWindows& b : buffers_) {
    if (b.name == buffer) return b;
  }
  buffers_.push_back(BufferWindows{std::string(buffer), {}, {}});
  return buffers_.back();
}

void TraceRecorder::add_window_bytes(BufferWindows& windows, std::int64_t window, std::int64_t bytes, bool is_write) {
  if (truncated_) return;
  const std::int64_t window_ps = limits_.buffer_window_ps;
  // Windows wholly outside the time range are dropped; (window + 1) * window_ps
  // cannot overflow: the window holds an event time.
  if (window * window_ps >= limits_.to_ps || (window + 1) * window_ps <= limits_.from_ps) return;
  auto found = windows.read_write_bytes.find(window);
  if (found != windows.read_write_bytes.end()) {
    (is_write ? found->second.second : found->second.first) += bytes;
    return;
  }
  // A window flushed earlier was counted then: its further bytes are no new event.
  if (!in_runs(windows.flushed, window) && !admit()) return;
  found = windows.read_write_bytes.emplace(window, std::pair<std::int64_t, std::int64_t>{0, 0}).first;
  (is_write ? found->second.second : found->second.first) += bytes;
  hold_one();
}

void TraceRecorder::record_buffer_access(std::string_view buffer, std::int64_t start_ps, std::int64_t end_ps,
                                         std::int64_t read_bytes, std::int64_t write_bytes) {
  if (truncated_) return;
  const std::int64_t window_ps = limits_.buffer_window_ps;
  check_interval(start_ps, end_ps, read_bytes, window_ps);
  check_interval(start_ps, end_ps, write_bytes, window_ps);
  if (!current_layer_kept_ || !in_time_range(start_ps, end_ps)) return;
  BufferWindows& windows = windows_of(buffer);
  split_over_windows(start_ps, end_ps, read_bytes, window_ps,
                     [&](std::int64_t w, std::int64_t bytes) { add_window_bytes(windows, w, bytes, false); });
  split_over_windows(start_ps, end_ps, write_bytes, window_ps,
                     [&](std::int64_t w, std::int64_t bytes) { add_window_bytes(windows, w, bytes, true); });
}

void TraceRecorder::stream_to(TraceSink* sink, std::int64_t flush_threshold_events) {
  if (sink == nullptr) throw std::invalid_argument("trace sink must not be null");
  if (flush_threshold_events < 1) {
    throw std::invalid_argument("trace flush threshold must be >= 1, got " + std::to_string(flush_threshold_events));
  }
  sink_ = sink;
  flush_threshold_ = flush_threshold_events;
  flush_if_full();
}

void TraceRecorder::hold_one() {
  ++resident_;
  peak_resident_ = std::max(peak_resident_, resident_);
  flush_if_full();
}

void TraceRecorder::flush_if_full() {
  if (sink_ != nullptr && resident_ >= flush_threshold_) flush();
}

void TraceRecorder::flush() {
  if (sink_ == nullptr) return;
  TraceEvents batch;
  batch.transfers.swap(events_.transfers);
  batch.dram_commands.swap(events_.dram_commands);
  batch.computes.swap(events_.computes);
  batch.stalls.swap(events_.stalls);
  batch.buffer_names = events_.buffer_names;
  batch.dram_channel_count = events_.dram_channel_count;
  batch.truncated = events_.truncated;
  batch.max_events = events_.max_events;
  append_buffer_windows(batch);
  for (BufferWindows& b : buffers_) {
    for (const auto& entry : b.read_write_bytes) add_to_runs(b.flushed, entry.first);
    b.read_write_bytes.clear();
  }
  resident_ = 0;
  sink_->consume(std::move(batch));
}

TraceEvents TraceRecorder::events() const {
  TraceEvents out = events_;
  append_buffer_windows(out);
  return out;
}

TraceEvents TraceRecorder::take_events() {
  TraceEvents out = std::move(events_);
  append_buffer_windows(out);
  events_ = TraceEvents{};
  events_.max_events = limits_.max_events;
  buffers_.clear();
  resident_ = 0;
  event_count_ = 0;
  truncated_ = false;
  return out;
}

void TraceRecorder::append_buffer_windows(TraceEvents& out) const {
  const std::int64_t window_ps = limits_.buffer_window_ps;
  for (const BufferWindows& b : buffers_) {
    for (const auto& [window, bytes] : b.read_write_bytes) {
      out.buffer_windows.push_back(
          BufferAccessWindow{b.name, window * window_ps, window_ps, bytes.first, bytes.second});
    }
  }
}

}  // namespace npusim
