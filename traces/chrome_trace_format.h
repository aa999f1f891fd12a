// The pieces of the Chrome trace JSON (traces/chrome_trace_writer.h) shared by
// the in-memory writer and the streaming one (traces/streaming_trace_writer.h):
// one event's text, the track table, the lanes, the counters. Both writers
// order and lay out the same events the same way, so they write the same bytes.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "traces/trace_events.h"
#include "traces/traffic_timeline.h"

namespace npusim::chrome_format {

using Json = nlohmann::ordered_json;  // keys in insertion order: stable, readable output

// The comma-separated event list inside "traceEvents": [...].
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
  int add(const std::string& name, int lanes);
  void write_metadata(EventStream& stream) const;

 private:
  std::vector<std::string> names_;
};

// Lanes of a track, intervals given in time order: each goes to the first
// lane free by its start.
class LaneAssigner {
 public:
  int assign(std::int64_t start_ps, std::int64_t end_ps);
  int count() const { return std::max<int>(1, static_cast<int>(lane_end_.size())); }

 private:
  std::vector<std::int64_t> lane_end_;
};

// One track per DMA queue a transfer goes through: "dma load <buffer>" (a
// load into that buffer; "dma load ofmap" is a partial-sum reload) and
// "dma store", each with lanes for its transfers in flight together. A writer
// shows it the transfers in time order twice: count() them, add_tracks(),
// then place() each for its tid.
class DmaQueueTracks {
 public:
  static std::string queue_of(const TransferEvent& t);
  void count(const TransferEvent& t);
  // Registers the queues seen, by name.
  void add_tracks(TrackTable& tracks);
  int place(const TransferEvent& t);

 private:
  std::map<std::string, LaneAssigner> counted_, placed_;
  std::map<std::string, int> first_tid_;
};

// Everything before the first event: `{"displayTimeUnit"...,"traceEvents":[`.
void write_header(std::ostream& out, std::int64_t bandwidth_window_ps, const std::string& truncated);
// After the last event.
void write_footer(std::ostream& out);

Json compute_event(const ComputeEvent& c, int tid);
Json stall_event(const StallEvent& s, int tid);
Json transfer_event(const TransferEvent& t, int tid);
Json dram_command_event(const DramCommandEvent& c, int tid);
Json buffer_window_event(const BufferAccessWindow& w, int tid);
Json truncation_event(const std::string& truncated, std::int64_t end_ps, int tid);

// The "<component> read" and "<component> write" counter tracks of a series.
void write_counter(EventStream& stream, const std::string& component, const TrafficSeries& series,
                   std::int64_t window_ps);
// Every counter track, in the writer's order: buffers, dma, DRAM channels.
void write_counters(EventStream& stream, const TrafficTimeline& traffic);

}  // namespace npusim::chrome_format
