#include "traces/chrome_trace_format.h"

#include <algorithm>

namespace npusim::chrome_format {
namespace {

constexpr int kPid = 1;

double to_us(std::int64_t ps) { return static_cast<double>(ps) / 1e6; }

Json complete_event(const std::string& name, const char* category, std::int64_t start_ps, std::int64_t end_ps, int tid,
                    Json args) {
  return Json{{"name", name},
              {"cat", category},
              {"ph", "X"},
              {"ts", to_us(start_ps)},
              {"dur", to_us(end_ps - start_ps)},
              {"pid", kPid},
              {"tid", tid},
              {"args", std::move(args)}};
}

}  // namespace

int TrackTable::add(const std::string& name, int lanes) {
  const int first = static_cast<int>(names_.size()) + 1;
  for (int lane = 0; lane < lanes; ++lane) {
    names_.push_back(lane == 0 ? name : name + " #" + std::to_string(lane + 1));
  }
  return first;
}

void TrackTable::write_metadata(EventStream& stream) const {
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

int LaneAssigner::assign(std::int64_t start_ps, std::int64_t end_ps) {
  std::size_t lane = 0;
  while (lane < lane_end_.size() && lane_end_[lane] > start_ps) ++lane;
  if (lane == lane_end_.size()) lane_end_.push_back(0);
  lane_end_[lane] = end_ps;
  return static_cast<int>(lane);
}

std::string DmaQueueTracks::queue_of(const TransferEvent& t) {
  return t.is_write ? "dma store" : "dma load " + t.buffer;
}

void DmaQueueTracks::count(const TransferEvent& t) { counted_[queue_of(t)].assign(t.start_ps, t.end_ps); }

void DmaQueueTracks::add_tracks(TrackTable& tracks) {
  for (const auto& [queue, lanes] : counted_) first_tid_[queue] = tracks.add(queue, lanes.count());
}

int DmaQueueTracks::place(const TransferEvent& t) {
  const std::string queue = queue_of(t);
  return first_tid_.at(queue) + placed_[queue].assign(t.start_ps, t.end_ps);
}

void write_header(std::ostream& out, std::int64_t bandwidth_window_ps, const std::string& truncated) {
  // otherData values are strings, as viewers expect.
  Json other{{"generator", "npusim"}, {"bandwidth_window", std::to_string(bandwidth_window_ps) + " ps"}};
  if (!truncated.empty()) other["truncated"] = truncated;
  out << "{\"displayTimeUnit\":\"ns\",\"otherData\":" << other.dump() << ",\"traceEvents\":[";
}

void write_footer(std::ostream& out) { out << "\n]}\n"; }

Json compute_event(const ComputeEvent& c, int tid) {
  return complete_event(c.layer + " fold " + std::to_string(c.fold_index), "compute", c.start_ps, c.end_ps, tid,
                        Json{{"layer", c.layer}, {"fold", c.fold_index}, {"unit", std::string(to_string(c.unit))}});
}

Json stall_event(const StallEvent& s, int tid) {
  const std::string cause(to_string(s.cause));
  return complete_event("stall: " + cause, "stall", s.start_ps, s.end_ps, tid,
                        Json{{"layer", s.layer}, {"cause", cause}});
}

Json transfer_event(const TransferEvent& t, int tid) {
  return complete_event(t.source + " -> " + t.destination, "dma", t.start_ps, t.end_ps, tid,
                        Json{{"bytes", t.bytes},
                             {"buffer", t.buffer},
                             {"source", t.source},
                             {"destination", t.destination},
                             {"layer", t.layer},
                             {"is_write", t.is_write}});
}

Json dram_command_event(const DramCommandEvent& c, int tid) {
  Json args{{"rank", c.rank}, {"bank_group", c.bank_group}, {"bank", c.bank}, {"row", c.row}};
  if (c.command == DramCommandKind::rd || c.command == DramCommandKind::wr) args["bytes"] = c.data_bytes;
  return Json{{"name", std::string(to_string(c.command))},
              {"cat", "dram"},
              {"ph", "i"},
              {"s", "t"},
              {"ts", to_us(c.time_ps)},
              {"pid", kPid},
              {"tid", tid},
              {"args", std::move(args)}};
}

Json buffer_window_event(const BufferAccessWindow& w, int tid) {
  return complete_event(w.buffer + " access", "sram", w.window_start_ps, w.window_start_ps + w.window_length_ps, tid,
                        Json{{"read_bytes", w.read_bytes}, {"write_bytes", w.write_bytes}});
}

Json truncation_event(const std::string& truncated, std::int64_t end_ps, int tid) {
  return Json{{"name", truncated},   {"cat", "trace"}, {"ph", "i"}, {"s", "g"},
              {"ts", to_us(end_ps)}, {"pid", kPid},    {"tid", tid}};
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

void write_counters(EventStream& stream, const TrafficTimeline& traffic) {
  for (const TrafficSeries& series : traffic.buffers) {
    write_counter(stream, "sram " + series.name, series, traffic.window_ps);
  }
  write_counter(stream, "dma", traffic.dma, traffic.window_ps);
  for (std::size_t ch = 0; ch < traffic.dram_channels.size(); ++ch) {
    write_counter(stream, "dram ch" + std::to_string(ch), traffic.dram_channels[ch], traffic.window_ps);
  }
}

}  // namespace npusim::chrome_format
