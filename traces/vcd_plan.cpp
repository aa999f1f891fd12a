#include "traces/vcd_plan.h"

#include <algorithm>
#include <map>
#include <stdexcept>

#include "traces/traffic_timeline.h"
#include "traces/window_split.h"

namespace npusim {
namespace {

// +1 at each start, -1 at each end; the flag is 1 while the sum is positive.
class FlagBuilder {
 public:
  void add(std::int64_t start_ps, std::int64_t end_ps) {
    check_interval(start_ps, end_ps, 0, 1);
    if (end_ps == start_ps) return;
    ++delta_[start_ps];
    --delta_[end_ps];
  }
  void emit(int signal, std::vector<VcdChange>& changes) const {
    std::int64_t open = 0;
    bool level = false;
    for (const auto& [time_ps, delta] : delta_) {
      open += delta;
      if ((open > 0) != level) {
        level = open > 0;
        changes.push_back({time_ps, signal, level ? 1 : 0});
      }
    }
  }

 private:
  std::map<std::int64_t, std::int64_t> delta_;
};

}  // namespace

std::vector<VcdSignal> vcd_signals(const TrafficTimeline& traffic) {
  std::vector<VcdSignal> signals{{"array_busy", 1}, {"ppu_busy", 1}, {"dma_active", 1}};
  for (int cause = 0; cause < kStallCauseCount; ++cause) {
    signals.push_back({"stall_" + std::string(to_string(static_cast<StallCause>(cause))), 1});
  }
  for (const TrafficSeries& series : traffic.buffers) signals.push_back({series.name + "_mbps", 64});
  signals.push_back({traffic.dma.name + "_mbps", 64});
  for (const TrafficSeries& series : traffic.dram_channels) signals.push_back({series.name + "_mbps", 64});
  return signals;
}

void FlagUnion::add(std::int64_t start_ps, std::int64_t end_ps) {
  check_interval(start_ps, end_ps, 0, 1);
  if (start_ps < last_start_ps_) {
    throw std::invalid_argument("FlagUnion: interval starting at " + std::to_string(start_ps) +
                                " ps after one starting at " + std::to_string(last_start_ps_) + " ps");
  }
  last_start_ps_ = start_ps;
  if (end_ps == start_ps) return;
  // Overlapping and back-to-back intervals stay 1.
  if (open_ && start_ps <= end_ps_) {
    end_ps_ = std::max(end_ps_, end_ps);
    return;
  }
  finish();
  open_ = true;
  start_ps_ = start_ps;
  end_ps_ = end_ps;
}

void FlagUnion::finish() {
  if (!open_) return;
  emit_(start_ps_, 1);
  emit_(end_ps_, 0);
  open_ = false;
}

std::vector<std::pair<std::int64_t, std::int64_t>> counter_changes(const TrafficSeries& series,
                                                                   std::int64_t window_ps) {
  std::vector<std::pair<std::int64_t, std::int64_t>> changes;
  std::int64_t value = 0;
  for (const auto& [window, bytes] : series.change_points()) {
    const std::int64_t mbps = megabytes_per_second(bytes.read_bytes + bytes.write_bytes, window_ps);
    if (mbps == value) continue;
    changes.emplace_back(window * window_ps, mbps);
    value = mbps;
  }
  return changes;
}

VcdPlan plan_vcd(const TraceEvents& events, std::int64_t window_ps) {
  const TrafficTimeline traffic = build_traffic_timeline(events, window_ps);
  VcdPlan plan;
  FlagBuilder array, ppu, dma;
  FlagBuilder stall[kStallCauseCount];
  for (const ComputeEvent& c : events.computes) (c.unit == ComputeUnit::array ? array : ppu).add(c.start_ps, c.end_ps);
  for (const TransferEvent& t : events.transfers) dma.add(t.start_ps, t.end_ps);
  for (const StallEvent& s : events.stalls) stall[static_cast<int>(s.cause)].add(s.start_ps, s.end_ps);

  auto add_flag = [&](const std::string& name, const FlagBuilder& flag) {
    const int signal = static_cast<int>(plan.signals.size());
    plan.signals.push_back({name, 1});
    flag.emit(signal, plan.changes);
  };
  add_flag("array_busy", array);
  add_flag("ppu_busy", ppu);
  add_flag("dma_active", dma);
  for (int cause = 0; cause < kStallCauseCount; ++cause) {
    add_flag("stall_" + std::string(to_string(static_cast<StallCause>(cause))), stall[cause]);
  }

  auto add_counter = [&](const TrafficSeries& series) {
    const int signal = static_cast<int>(plan.signals.size());
    plan.signals.push_back({series.name + "_mbps", 64});
    for (const auto& [time_ps, mbps] : counter_changes(series, window_ps))
      plan.changes.push_back({time_ps, signal, mbps});
  };
  for (const TrafficSeries& series : traffic.buffers) add_counter(series);
  add_counter(traffic.dma);
  for (const TrafficSeries& series : traffic.dram_channels) add_counter(series);

  std::stable_sort(plan.changes.begin(), plan.changes.end(), [](const VcdChange& a, const VcdChange& b) {
    return a.time_ps != b.time_ps ? a.time_ps < b.time_ps : a.signal < b.signal;
  });
  plan.end_ps = trace_end_ps(events);
  if (!plan.changes.empty()) plan.end_ps = std::max(plan.end_ps, plan.changes.back().time_ps);
  return plan;
}

}  // namespace npusim
