#include "sim/sweep/sweep_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "models/input_error.h"

namespace npusim {
namespace {

bool is_results_file(const std::string& name) {
  if (name == kLocalResultsFile) return true;
  const std::string prefix = "results.shard-", suffix = ".jsonl";
  return name.size() > prefix.size() + suffix.size() && name.rfind(prefix, 0) == 0 &&
         name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void read_file_lines(const std::filesystem::path& path, StoredResults& results) {
  std::ifstream in(path, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::size_t start = 0, line_number = 0;
  while (start < text.size()) {
    ++line_number;
    const std::size_t end = text.find('\n', start);
    if (end == std::string::npos) {
      results.notes.push_back(path.string() + ": ignored a partial last line (a write that was interrupted)");
      break;
    }
    const std::string line = text.substr(start, end - start);
    start = end + 1;
    if (line.empty()) continue;
    auto parsed = nlohmann::ordered_json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded() || !parsed.is_object() || !parsed.contains("key") || !parsed["key"].is_string() ||
        !parsed.contains("status") || !parsed["status"].is_string()) {
      results.notes.push_back(path.string() + ":" + std::to_string(line_number) +
                              ": ignored a line that is not a sweep result");
      continue;
    }
    ++results.lines;
    const std::string key = parsed["key"].get<std::string>();
    const auto existing = results.by_key.find(key);
    const bool keep_existing =
        existing != results.by_key.end() && existing->second["status"] == "ok" && parsed["status"] != "ok";
    if (!keep_existing) results.by_key[key] = std::move(parsed);
  }
}

}  // namespace

std::string shard_results_file(int shard, int shards) {
  return "results.shard-" + std::to_string(shard) + "-of-" + std::to_string(shards) + ".jsonl";
}

StoredResults read_results(const std::filesystem::path& dir) {
  StoredResults results;
  std::error_code error;
  if (!std::filesystem::is_directory(dir, error)) return results;
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && is_results_file(name)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  for (const auto& name : names) read_file_lines(dir / name, results);
  return results;
}

ResultsAppender::ResultsAppender(std::string path) : path_(std::move(path)) {
  fd_ = open(path_.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) throw InputError(path_ + ": cannot open the results file: " + std::strerror(errno));
  if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    close(fd_);
    throw InputError(path_ + ": another npusim sweep is writing this results file");
  }
  struct stat info {};
  fstat(fd_, &info);
  if (info.st_size == 0) return;
  // Find the end of the last whole line; anything after it is a torn write.
  off_t keep = info.st_size;
  char c = 0;
  if (pread(fd_, &c, 1, keep - 1) == 1 && c == '\n') return;
  while (keep > 0 && pread(fd_, &c, 1, keep - 1) == 1 && c != '\n') --keep;
  if (ftruncate(fd_, keep) != 0) {
    throw InputError(path_ + ": cannot cut the partial last line: " + std::strerror(errno));
  }
  note_ = path_ + ": cut a partial last line (a write that was interrupted); that point runs again";
}

ResultsAppender::~ResultsAppender() {
  if (fd_ >= 0) close(fd_);  // also releases the lock
}

void ResultsAppender::append(const nlohmann::ordered_json& line) {
  // A point's error message may quote bytes of its input that are not UTF-8.
  const std::string text = line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = write(fd_, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw InputError(path_ + ": cannot append a result: " + std::strerror(errno));
    written += static_cast<std::size_t>(n);
  }
  fdatasync(fd_);  // survives a reboot, not only a kill
}

}  // namespace npusim
