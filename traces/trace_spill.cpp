#include "traces/trace_spill.h"

#include "traces/trace_file_output.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <queue>
#include <stdexcept>
#include <type_traits>

namespace npusim {
namespace {

static_assert(std::is_trivially_copyable_v<SpillRecord>);
constexpr std::int64_t kChunkRecords = 512;  // per run while merging: 512 x 64 B

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw TraceFileError("trace spill file '" + path + "': " + what + ": " + std::strerror(errno));
}

}  // namespace

bool spill_before(const SpillRecord& a, const SpillRecord& b) {
  if (a.start_ps != b.start_ps) return a.start_ps < b.start_ps;
  if (a.end_ps != b.end_ps) return a.end_ps < b.end_ps;
  return a.order < b.order;
}

SpillStore::SpillStore(std::string path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd_ < 0) fail(path_, "cannot create");
}

SpillStore::~SpillStore() {
  if (fd_ >= 0) ::close(fd_);
  ::unlink(path_.c_str());
}

void SpillStore::end_run() {
  if (buffer_.empty()) return;
  std::sort(buffer_.begin(), buffer_.end(), spill_before);
  const std::int64_t offset = runs_.empty() ? 0 : runs_.back().offset_records + runs_.back().count;
  const char* data = reinterpret_cast<const char*>(buffer_.data());
  std::size_t left = buffer_.size() * sizeof(SpillRecord);
  off_t at = static_cast<off_t>(offset * static_cast<std::int64_t>(sizeof(SpillRecord)));
  while (left > 0) {
    const ssize_t n = ::pwrite(fd_, data, left, at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail(path_, "write failed");
    data += n;
    at += n;
    left -= static_cast<std::size_t>(n);
  }
  runs_.push_back({offset, static_cast<std::int64_t>(buffer_.size())});
  total_ += static_cast<std::int64_t>(buffer_.size());
  buffer_.clear();
  buffer_.shrink_to_fit();  // the point is not to hold a run's worth between flushes
}

void SpillStore::merge(const std::function<void(const SpillRecord&)>& visit) {
  end_run();
  struct Cursor {
    std::int64_t next = 0;  // next record of the run to read
    std::int64_t end = 0;
    std::vector<SpillRecord> chunk;
    std::size_t at = 0;
  };
  std::vector<Cursor> cursors(runs_.size());
  auto refill = [&](Cursor& c) {
    const std::int64_t n = std::min(kChunkRecords, c.end - c.next);
    c.chunk.resize(static_cast<std::size_t>(n));
    c.at = 0;
    char* data = reinterpret_cast<char*>(c.chunk.data());
    std::size_t left = static_cast<std::size_t>(n) * sizeof(SpillRecord);
    off_t from = static_cast<off_t>(c.next * static_cast<std::int64_t>(sizeof(SpillRecord)));
    while (left > 0) {
      const ssize_t got = ::pread(fd_, data, left, from);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) fail(path_, "read failed");
      data += got;
      from += got;
      left -= static_cast<std::size_t>(got);
    }
    c.next += n;
  };
  auto after = [&](std::size_t a, std::size_t b) {  // heap order: smallest record on top
    return spill_before(cursors[b].chunk[cursors[b].at], cursors[a].chunk[cursors[a].at]);
  };
  std::priority_queue<std::size_t, std::vector<std::size_t>, decltype(after)> heap(after);
  for (std::size_t r = 0; r < runs_.size(); ++r) {
    cursors[r].next = runs_[r].offset_records;
    cursors[r].end = runs_[r].offset_records + runs_[r].count;
    refill(cursors[r]);
    heap.push(r);
  }
  while (!heap.empty()) {
    const std::size_t r = heap.top();
    heap.pop();
    Cursor& c = cursors[r];
    visit(c.chunk[c.at]);
    if (++c.at == c.chunk.size()) {
      if (c.next == c.end) {
        c.chunk = {};
        continue;
      }
      refill(c);
    }
    heap.push(r);
  }
}

}  // namespace npusim
