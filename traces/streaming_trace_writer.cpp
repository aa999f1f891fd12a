#include "traces/streaming_trace_writer.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <ostream>
#include <stdexcept>
#include <system_error>

#include "traces/chrome_trace_format.h"
#include "traces/csv_timeline_writer.h"
#include "traces/trace_file_output.h"
#include "traces/vcd_plan.h"
#include "traces/vcd_writer.h"

namespace npusim {
namespace {

// Stalls come after every fold in the in-memory writer's input order.
constexpr std::int64_t kStallOrderBase = std::int64_t{1} << 62;
enum ArrayKind : std::int32_t { kCompute = 0, kStall = 1 };

// One VCD signal's changes, (time, value) pairs of int64 in time order.
class ChangeFileWriter {
 public:
  explicit ChangeFileWriter(std::string path) : path_(std::move(path)), file_(std::fopen(path_.c_str(), "wb")) {
    if (!file_) throw TraceFileError("cannot create '" + path_ + "': " + std::strerror(errno));
  }
  ~ChangeFileWriter() {
    if (file_) std::fclose(file_);
  }
  void put(std::int64_t time_ps, std::int64_t value) {
    const std::int64_t pair[2] = {time_ps, value};
    if (std::fwrite(pair, sizeof pair, 1, file_) != 1) {
      throw TraceFileError("cannot write '" + path_ + "': " + std::strerror(errno));
    }
    last_time_ps_ = time_ps;
  }
  void close() {
    const bool failed = std::fclose(file_) != 0;
    file_ = nullptr;
    if (failed) throw TraceFileError("cannot write '" + path_ + "': " + std::strerror(errno));
  }
  std::int64_t last_time_ps() const { return last_time_ps_; }

 private:
  std::string path_;
  std::FILE* file_;
  std::int64_t last_time_ps_ = -1;
};

// Merges the signals' change files by (time, signal): the order plan_vcd()
// sorts its changes in. Runs in the VCD replay process.
class ChangeFileMerger {
 public:
  explicit ChangeFileMerger(const std::vector<std::string>& paths) {
    for (const std::string& path : paths) {
      Input input;
      input.file = std::fopen(path.c_str(), "rb");
      if (!input.file) throw TraceFileError("cannot read '" + path + "': " + std::strerror(errno));
      inputs_.push_back(input);
      advance(inputs_.back());
    }
  }
  ~ChangeFileMerger() {
    for (Input& input : inputs_) std::fclose(input.file);
  }
  ChangeFileMerger(const ChangeFileMerger&) = delete;
  ChangeFileMerger& operator=(const ChangeFileMerger&) = delete;

  bool next(VcdChange& change) {
    std::size_t best = inputs_.size();
    for (std::size_t i = 0; i < inputs_.size(); ++i) {
      if (inputs_[i].has && (best == inputs_.size() || inputs_[i].pair[0] < inputs_[best].pair[0])) best = i;
    }
    if (best == inputs_.size()) return false;  // ties on time: the lower signal first
    change = VcdChange{inputs_[best].pair[0], static_cast<int>(best), inputs_[best].pair[1]};
    advance(inputs_[best]);
    return true;
  }

 private:
  struct Input {
    std::FILE* file = nullptr;
    std::int64_t pair[2] = {0, 0};
    bool has = false;
  };
  static void advance(Input& input) { input.has = std::fread(input.pair, sizeof input.pair, 1, input.file) == 1; }
  std::vector<Input> inputs_;
};

ComputeEvent to_compute(const SpillRecord& r, const std::vector<std::string>& strings) {
  return ComputeEvent{strings[static_cast<std::size_t>(r.ints[0])], r.value, static_cast<ComputeUnit>(r.ints[2]),
                      r.start_ps, r.end_ps};
}

StallEvent to_stall(const SpillRecord& r, const std::vector<std::string>& strings) {
  return StallEvent{strings[static_cast<std::size_t>(r.ints[0])], static_cast<StallCause>(r.ints[2]), r.start_ps,
                    r.end_ps};
}

TransferEvent to_transfer(const SpillRecord& r, const std::vector<std::string>& strings) {
  auto text = [&](int i) { return strings[static_cast<std::size_t>(r.ints[i])]; };
  return TransferEvent{text(1), text(2), text(3), text(0), r.value, r.start_ps, r.end_ps, r.ints[4] != 0};
}

DramCommandEvent to_command(const SpillRecord& r) {
  return DramCommandEvent{r.ints[0],  r.ints[1], r.ints[2], r.ints[3], r.value, static_cast<DramCommandKind>(r.ints[4]),
                          r.start_ps, r.value2};
}

}  // namespace

StreamingTraceWriter::StreamingTraceWriter(StreamingTraceOptions options)
    : options_(std::move(options)), aggregator_(options_.window_ps) {
  if (options_.dir.empty()) return;
  namespace fs = std::filesystem;
  // A run killed with -9 leaves its spill directory and temporaries: the
  // next run into the directory removes them.
  remove_stale_trace_temporaries(options_.dir);
  spill_dir_ = (fs::path(options_.dir) / (".npusim-spill-" + std::to_string(getpid()))).string();
  std::error_code error;
  fs::remove_all(spill_dir_, error);
  fs::create_directories(spill_dir_, error);
  if (error) throw TraceFileError("cannot create trace spill directory '" + spill_dir_ + "': " + error.message());
  array_ = std::make_unique<SpillStore>(spill_dir_ + "/array.bin");
  ppu_ = std::make_unique<SpillStore>(spill_dir_ + "/ppu.bin");
  dma_ = std::make_unique<SpillStore>(spill_dir_ + "/dma.bin");
  dram_ = std::make_unique<SpillStore>(spill_dir_ + "/dram.bin");
}

StreamingTraceWriter::~StreamingTraceWriter() {
  array_.reset();
  ppu_.reset();
  dma_.reset();
  dram_.reset();
  if (!spill_dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(spill_dir_, ignored);
  }
}

std::int64_t StreamingTraceWriter::spilled_event_count() const {
  if (!array_) return 0;
  return array_->size() + ppu_->size() + dma_->size() + dram_->size();
}

int StreamingTraceWriter::intern(const std::string& text) {
  const auto [found, added] = string_ids_.emplace(text, static_cast<int>(strings_.size()));
  if (added) strings_.push_back(text);
  return found->second;
}

void StreamingTraceWriter::consume(TraceEvents batch) {
  aggregator_.add(batch);  // validates every event first
  if (!array_) return;
  for (const ComputeEvent& c : batch.computes) {
    SpillRecord r;
    r.start_ps = c.start_ps;
    r.end_ps = c.end_ps;
    r.order = compute_seq_++;
    r.value = c.fold_index;
    r.ints[0] = intern(c.layer);
    r.ints[1] = kCompute;
    r.ints[2] = static_cast<std::int32_t>(c.unit);
    (c.unit == ComputeUnit::array ? *array_ : *ppu_).add(r);
  }
  for (const StallEvent& s : batch.stalls) {
    SpillRecord r;
    r.start_ps = s.start_ps;
    r.end_ps = s.end_ps;
    r.order = kStallOrderBase + stall_seq_++;
    r.ints[0] = intern(s.layer);
    r.ints[1] = kStall;
    r.ints[2] = static_cast<std::int32_t>(s.cause);
    array_->add(r);
  }
  for (const TransferEvent& t : batch.transfers) {
    SpillRecord r;
    r.start_ps = t.start_ps;
    r.end_ps = t.end_ps;
    r.order = transfer_seq_++;
    r.value = t.bytes;
    r.ints[0] = intern(t.layer);
    r.ints[1] = intern(t.source);
    r.ints[2] = intern(t.destination);
    r.ints[3] = intern(t.buffer);
    r.ints[4] = t.is_write ? 1 : 0;
    dma_->add(r);
  }
  for (const DramCommandEvent& c : batch.dram_commands) {
    SpillRecord r;
    r.start_ps = c.time_ps;
    r.end_ps = c.time_ps;
    r.order = command_seq_++;
    r.value = c.row;
    r.value2 = c.data_bytes;
    r.ints[0] = c.channel;
    r.ints[1] = c.rank;
    r.ints[2] = c.bank_group;
    r.ints[3] = c.bank;
    r.ints[4] = static_cast<std::int32_t>(c.command);
    dram_->add(r);
  }
  for (SpillStore* store : {array_.get(), ppu_.get(), dma_.get(), dram_.get()}) store->end_run();
}

void StreamingTraceWriter::finish() {
  if (!array_) return;
  const TraceSummary summary = aggregator_.summary();
  write_chrome(summary);
  write_csv_timeline(summary.traffic, summary.truncation, options_.dir + "/timeline.csv");
  write_vcd(summary);
}

void StreamingTraceWriter::write_chrome(const TraceSummary& summary) {
  using namespace chrome_format;
  const TrafficTimeline& traffic = summary.traffic;
  const std::vector<BufferAccessWindow> windows = aggregator_.buffer_windows();  // by buffer name, then time

  // A first pass over the merged tracks counts their lanes: the track table
  // (and so every tid) comes before the events.
  auto lanes_of = [](SpillStore& store) {
    LaneAssigner lanes;
    store.merge([&](const SpillRecord& r) { lanes.assign(r.start_ps, r.end_ps); });
    return lanes.count();
  };
  TrackTable tracks;
  const int array_tid = tracks.add("array", lanes_of(*array_));
  const int ppu_tid = tracks.add("ppu", lanes_of(*ppu_));
  DmaQueueTracks dma;
  dma_->merge([&](const SpillRecord& r) { dma.count(to_transfer(r, strings_)); });
  dma.add_tracks(tracks);
  std::vector<int> channel_tid;
  for (std::size_t ch = 0; ch < traffic.dram_channels.size(); ++ch) {
    channel_tid.push_back(tracks.add("dram ch" + std::to_string(ch), 1));
  }
  std::vector<int> buffer_tid;
  for (const TrafficSeries& series : traffic.buffers) {
    LaneAssigner lanes;
    for (const BufferAccessWindow& w : windows) {
      if (w.buffer == series.name) lanes.assign(w.window_start_ps, w.window_start_ps + w.window_length_ps);
    }
    buffer_tid.push_back(tracks.add("sram " + series.name, lanes.count()));
  }

  write_trace_file(options_.dir + "/trace.json", [&](std::ostream& out) {
    write_header(out, options_.window_ps, summary.truncation);
    EventStream stream(out);
    tracks.write_metadata(stream);
    auto write_track = [&](SpillStore& store, int first_tid) {
      LaneAssigner lanes;
      store.merge([&](const SpillRecord& r) {
        const int tid = first_tid + lanes.assign(r.start_ps, r.end_ps);
        stream.add(r.ints[1] == kCompute ? compute_event(to_compute(r, strings_), tid)
                                         : stall_event(to_stall(r, strings_), tid));
      });
    };
    write_track(*array_, array_tid);
    write_track(*ppu_, ppu_tid);
    dma_->merge([&](const SpillRecord& r) {
      const TransferEvent t = to_transfer(r, strings_);
      stream.add(transfer_event(t, dma.place(t)));
    });
    dram_->merge([&](const SpillRecord& r) {
      const DramCommandEvent c = to_command(r);
      stream.add(dram_command_event(c, channel_tid[static_cast<std::size_t>(c.channel)]));
    });
    for (std::size_t b = 0; b < traffic.buffers.size(); ++b) {
      LaneAssigner lanes;
      for (const BufferAccessWindow& w : windows) {
        if (w.buffer != traffic.buffers[b].name) continue;
        stream.add(buffer_window_event(
            w, buffer_tid[b] + lanes.assign(w.window_start_ps, w.window_start_ps + w.window_length_ps)));
      }
    }
    write_counters(stream, traffic);
    if (!summary.truncation.empty()) stream.add(truncation_event(summary.truncation, summary.end_ps, array_tid));
    write_footer(out);
  });
}

void StreamingTraceWriter::write_vcd(const TraceSummary& summary) {
  const std::vector<VcdSignal> signals = vcd_signals(summary.traffic);
  std::vector<std::string> paths;
  std::vector<std::unique_ptr<ChangeFileWriter>> files;
  for (std::size_t i = 0; i < signals.size(); ++i) {
    paths.push_back(spill_dir_ + "/signal" + std::to_string(i) + ".bin");
    files.push_back(std::make_unique<ChangeFileWriter>(paths.back()));
  }
  auto emit_to = [&](int signal) {
    return [&files, signal](std::int64_t time_ps, std::int64_t value) { files[signal]->put(time_ps, value); };
  };
  // Signal order: array_busy, ppu_busy, dma_active, stall_<cause>..., then
  // the bandwidths (traces/vcd_plan.h).
  FlagUnion array_busy(emit_to(0)), ppu_busy(emit_to(1)), dma_active(emit_to(2));
  std::vector<FlagUnion> stalls;
  for (int cause = 0; cause < kStallCauseCount; ++cause) stalls.emplace_back(emit_to(3 + cause));
  array_->merge([&](const SpillRecord& r) {
    if (r.ints[1] == kCompute) {
      array_busy.add(r.start_ps, r.end_ps);
    } else {
      stalls[static_cast<std::size_t>(r.ints[2])].add(r.start_ps, r.end_ps);
    }
  });
  ppu_->merge([&](const SpillRecord& r) { ppu_busy.add(r.start_ps, r.end_ps); });
  dma_->merge([&](const SpillRecord& r) { dma_active.add(r.start_ps, r.end_ps); });
  array_busy.finish();
  ppu_busy.finish();
  dma_active.finish();
  for (FlagUnion& stall : stalls) stall.finish();

  const TrafficTimeline& traffic = summary.traffic;
  std::vector<const TrafficSeries*> counters;
  for (const TrafficSeries& s : traffic.buffers) counters.push_back(&s);
  counters.push_back(&traffic.dma);
  for (const TrafficSeries& s : traffic.dram_channels) counters.push_back(&s);
  for (std::size_t c = 0; c < counters.size(); ++c) {
    for (const auto& [time_ps, mbps] : counter_changes(*counters[c], traffic.window_ps)) {
      files[kVcdFlagSignals + c]->put(time_ps, mbps);
    }
  }

  std::int64_t end_ps = summary.end_ps;
  for (auto& file : files) {
    end_ps = std::max(end_ps, file->last_time_ps());
    file->close();
  }
  const std::function<VcdChangeSource()> open_changes = [&paths]() -> VcdChangeSource {
    auto merger = std::make_shared<ChangeFileMerger>(paths);
    return [merger](VcdChange& change) { return merger->next(change); };
  };
  write_vcd_trace(signals, open_changes, end_ps, summary.truncation, options_.dir + "/trace.vcd");
  for (const std::string& path : paths) std::remove(path.c_str());
}

}  // namespace npusim
