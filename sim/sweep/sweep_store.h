// The results store of a sweep: a directory of JSON Lines files, one finished
// point per line, appended and flushed as points finish. A local run appends to
// results.jsonl, shard i of N to results.shard-i-of-N.jsonl, so concurrent
// shards never share a file. Lines are whole or absent: each is one write()
// followed by fdatasync, and a partial last line (a crash mid-write) is ignored
// when read and cut off before the next append.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace npusim {

inline constexpr const char* kLocalResultsFile = "results.jsonl";
std::string shard_results_file(int shard, int shards);  // "results.shard-2-of-8.jsonl"

struct StoredResults {
  // The line that counts for each key: its last "ok" line if it has one, else
  // its last line (files in name order, lines in file order).
  std::map<std::string, nlohmann::ordered_json> by_key;
  std::size_t lines = 0;
  std::vector<std::string> notes;  // ignored partial or unreadable lines, one sentence each
};

// Reads results.jsonl and every results.shard-*.jsonl in `dir` (none: empty).
StoredResults read_results(const std::filesystem::path& dir);

// Appends result lines to one file, holding an exclusive flock on it so two
// sweeps never append to the same file.
class ResultsAppender {
 public:
  // Creates the file if needed; InputError when it cannot, or when another
  // process holds the lock. Cuts a partial last line, saying so in note().
  explicit ResultsAppender(std::string path);
  ~ResultsAppender();
  ResultsAppender(const ResultsAppender&) = delete;
  ResultsAppender& operator=(const ResultsAppender&) = delete;

  // One line (compact JSON + '\n'), written with one write() and synced.
  void append(const nlohmann::ordered_json& line);
  const std::string& note() const { return note_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
  std::string note_;
};

}  // namespace npusim
