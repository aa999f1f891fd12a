// Sorted runs of fixed-size trace records in a temporary file, merged back in
// order: how the streaming writers (traces/streaming_trace_writer.h) put a
// long run's events in time order without holding them in memory.
//
// add() buffers records; end_run() sorts the buffer by (start_ps, end_ps,
// order) and appends it to the file as one run; merge() visits every record of
// every run in that order (a k-way merge reading each run in small chunks),
// as often as needed. `order` must be unique within a store, so the order is
// total and the merge deterministic.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace npusim {

// Plain data, written to the file as is.
struct SpillRecord {
  std::int64_t start_ps = 0;
  std::int64_t end_ps = 0;
  std::int64_t order = 0;  // ties on time: the writer's input order
  std::int64_t value = 0;  // fold index, bytes or row
  std::int64_t value2 = 0;
  std::int32_t ints[6] = {};  // interned strings, kinds, channel/rank/bank...
};

bool spill_before(const SpillRecord& a, const SpillRecord& b);

class SpillStore {
 public:
  // Creates (truncates) `path`; throws std::runtime_error naming it on failure.
  explicit SpillStore(std::string path);
  ~SpillStore();  // closes and removes the file
  SpillStore(const SpillStore&) = delete;
  SpillStore& operator=(const SpillStore&) = delete;

  void add(const SpillRecord& record) { buffer_.push_back(record); }
  void end_run();  // no-op when nothing was added since the last run
  std::int64_t size() const noexcept { return total_; }
  std::size_t run_count() const noexcept { return runs_.size(); }

  // Ends the open run, then visits all records in (start, end, order) order.
  void merge(const std::function<void(const SpillRecord&)>& visit);

 private:
  struct Run {
    std::int64_t offset_records = 0;
    std::int64_t count = 0;
  };
  std::string path_;
  int fd_ = -1;
  std::vector<SpillRecord> buffer_;
  std::vector<Run> runs_;
  std::int64_t total_ = 0;
};

}  // namespace npusim
