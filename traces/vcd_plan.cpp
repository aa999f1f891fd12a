#include "traces/vcd_plan.h"

#include <algorithm>
#include <map>

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
    std::int64_t value = 0;
    for (const auto& [window, bytes] : series.change_points()) {
      const std::int64_t mbps = megabytes_per_second(bytes.read_bytes + bytes.write_bytes, window_ps);
      if (mbps == value) continue;
      plan.changes.push_back({window * window_ps, signal, mbps});
      value = mbps;
    }
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
