// Strict, path-tracking access to a JSON document: every read names its JSON
// path, every failure throws InputError("<file>: <path>: expected ..., got ..."),
// and unknown keys are an error (call finish() after reading an object).
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace npusim {

// Reads and parses a JSON file; a missing file or a syntax error is an
// InputError naming the file (and line/column for syntax errors).
// The file is read through read_file_bounded (64 MiB cap, a directory or
// device named as such) and may nest at most kMaxJsonDepth levels.
nlohmann::json read_json_file(const std::string& path);

// Throws InputError("<where>:<line>:<column>: JSON nested deeper than 64
// levels") when `text` nests arrays/objects deeper than kMaxJsonDepth. A plain
// scan, no recursion: called before nlohmann parses (or, in an error message,
// prints) a document whose depth the input decides.
void check_json_depth(const std::string& text, const std::string& where);

// A JSON value as it appears in error messages ("got ..."): compact JSON,
// shortened when long; invalid UTF-8 in a string is shown as U+FFFD, never thrown.
std::string describe_json(const nlohmann::json& value);

class JsonObjectReader {
 public:
  // `node` must outlive the reader. `path` is the JSON path of node, e.g.
  // "$.array" or "$.layers[3]". Throws if node is not an object.
  JsonObjectReader(const nlohmann::json& node, std::string file, std::string path);

  bool has(const std::string& key) const;
  std::string path_of(const std::string& key) const;  // "$.array.rows"
  [[noreturn]] void fail(const std::string& key, const std::string& expected) const;

  // Required values (throw when missing or of the wrong type / range).
  std::int64_t integer(const std::string& key, std::int64_t min, std::int64_t max);
  double number(const std::string& key, double min, double max);
  std::string string(const std::string& key);
  bool boolean(const std::string& key);
  const nlohmann::json& object(const std::string& key);
  const nlohmann::json& array(const std::string& key);
  // A list of integers, each in [min, max]; length must be in [min_len, max_len].
  std::vector<std::int64_t> integer_list(const std::string& key, std::int64_t min, std::int64_t max,
                                         std::size_t min_len, std::size_t max_len);

  // Optional values: the default when the key is absent.
  std::int64_t integer_or(const std::string& key, std::int64_t min, std::int64_t max, std::int64_t fallback);
  double number_or(const std::string& key, double min, double max, double fallback);
  std::string string_or(const std::string& key, const std::string& fallback);
  bool boolean_or(const std::string& key, bool fallback);

  // A child reader for an object-valued key.
  JsonObjectReader child(const std::string& key);

  // Throws for the first key present in the object that was never read.
  void finish() const;

  const std::string& file() const { return file_; }
  const std::string& path() const { return path_; }

 private:
  const nlohmann::json& at(const std::string& key);
  const nlohmann::json& node_;
  std::string file_;
  std::string path_;
  std::set<std::string> seen_;
  // Every key asked about, present or not: the "expected one of" list of finish().
  mutable std::set<std::string> known_;
};

}  // namespace npusim
