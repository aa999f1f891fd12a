#include "models/json_reader.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <utility>

#include "models/bounded_read.h"
#include "models/input_error.h"

namespace npusim {
namespace {

constexpr std::size_t kMaxDescribedChars = 60;

// Shortest text that reads back as the same double ("0.1", not "0.10000000000000001").
std::string format_number(double value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

std::string range_text(std::int64_t min, std::int64_t max) {
  constexpr auto lowest = std::numeric_limits<std::int64_t>::min();
  constexpr auto highest = std::numeric_limits<std::int64_t>::max();
  if (min == lowest && max == highest) return "";
  if (max == highest) return " >= " + std::to_string(min);
  if (min == lowest) return " <= " + std::to_string(max);
  return " in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
}

std::string integer_text(std::int64_t min, std::int64_t max) { return "an integer" + range_text(min, max); }

std::string number_text(double min, double max) {
  return "a number in [" + format_number(min) + ", " + format_number(max) + "]";
}

// The value of an integer-typed JSON node, if it fits in int64.
std::optional<std::int64_t> as_int64(const nlohmann::json& value) {
  if (value.is_number_unsigned()) {
    const auto u = value.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
    return static_cast<std::int64_t>(u);
  }
  if (value.is_number_integer()) return value.get<std::int64_t>();
  return std::nullopt;
}

// Where the parser stands, for naming a duplicated key by its JSON path.
struct ParseFrame {
  bool array = false;
  std::size_t index = 0;       // arrays: the element being parsed
  std::string key;             // objects: the member being parsed
  std::set<std::string> keys;  // objects: members seen so far
};

struct DuplicateKey {
  std::string path;
};

std::string frames_path(const std::vector<ParseFrame>& frames) {
  std::string path = "$";
  for (const auto& frame : frames) {
    if (frame.array) {
      path.append("[").append(std::to_string(frame.index)).append("]");
    } else {
      path.append(".").append(frame.key);
    }
  }
  return path;
}

// nlohmann keeps the last of duplicated keys silently; a config with "rows"
// twice is almost always a mistake, so it is an error here.
nlohmann::json parse_rejecting_duplicates(const std::string& text) {
  std::vector<ParseFrame> frames;
  auto finish_element = [&frames] {
    if (!frames.empty() && frames.back().array) ++frames.back().index;
  };
  auto callback = [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    switch (event) {
      case Event::object_start: frames.push_back({}); break;
      case Event::array_start:
        frames.emplace_back();
        frames.back().array = true;
        break;
      case Event::key: {
        auto& frame = frames.back();
        frame.key = parsed.get<std::string>();
        if (!frame.keys.insert(frame.key).second) throw DuplicateKey{frames_path(frames)};
        break;
      }
      case Event::object_end:
      case Event::array_end:
        frames.pop_back();
        finish_element();
        break;
      case Event::value: finish_element(); break;
    }
    return true;
  };
  return nlohmann::json::parse(text, callback, /*allow_exceptions=*/true, /*ignore_comments=*/false);
}

// "<line>:<column>" of a byte offset, both counted from 1.
std::string line_column(const std::string& text, std::size_t offset) {
  offset = std::min(offset, text.size());
  std::size_t line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return std::to_string(line) + ":" + std::to_string(offset - line_start + 1);
}

// nlohmann's message without its "[json.exception.<kind>] " tag and, for
// parse errors, without the "parse error at line 1, column 2: " it repeats.
std::string nlohmann_detail(const std::string& message) {
  std::string detail = message;
  const auto tag_end = detail.find("] ");
  if (detail.rfind("[json.exception.", 0) == 0 && tag_end != std::string::npos) {
    detail = detail.substr(tag_end + 2);
  }
  const auto colon = detail.find(": ");
  if (detail.rfind("parse error", 0) == 0 && colon != std::string::npos) detail = detail.substr(colon + 2);
  return detail;
}

}  // namespace

void check_json_depth(const std::string& text, const std::string& where) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) {
        throw InputError(where + ":" + line_column(text, i) + ": JSON nested deeper than " +
                         std::to_string(kMaxJsonDepth) + " levels (expected a flatter document)");
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
}

std::string describe_json(const nlohmann::json& value) {
  // The document's depth is capped (check_json_depth), so dump's recursion is bounded.
  std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() > kMaxDescribedChars) {
    // Cut at a character boundary, so the message stays valid UTF-8.
    std::size_t cut = kMaxDescribedChars - 3;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    text = text.substr(0, cut) + "...";
  }
  return text;
}

nlohmann::json read_json_file(const std::string& path) {
  const std::string text = read_file_bounded(path, kMaxTextInputBytes, "JSON");
  check_json_depth(text, path);
  try {
    return parse_rejecting_duplicates(text);
  } catch (const DuplicateKey& duplicate) {
    throw InputError(path + ": " + duplicate.path + ": expected each key once, got it twice");
  } catch (const nlohmann::json::parse_error& error) {
    // error.byte counts from 1 and points at the last character read.
    const std::size_t offset = error.byte > 0 ? error.byte - 1 : 0;
    throw InputError(path + ":" + line_column(text, offset) + ": invalid JSON: " + nlohmann_detail(error.what()));
  } catch (const nlohmann::json::exception& error) {
    // A number too large for a double ("1e400") names the literal but not where it is.
    const std::string detail = nlohmann_detail(error.what());
    const auto open = detail.find('\'');
    const auto close = detail.rfind('\'');
    const auto at = open < close ? text.find(detail.substr(open + 1, close - open - 1)) : std::string::npos;
    throw InputError(path + (at == std::string::npos ? "" : ":" + line_column(text, at)) + ": invalid JSON: " + detail);
  }
}

JsonObjectReader::JsonObjectReader(const nlohmann::json& node, std::string file, std::string path)
    : node_(node), file_(std::move(file)), path_(std::move(path)) {
  if (!node_.is_object()) {
    throw InputError(file_ + ": " + path_ + ": expected an object, got " + describe_json(node_));
  }
}

bool JsonObjectReader::has(const std::string& key) const {
  known_.insert(key);
  return node_.contains(key);
}

std::string JsonObjectReader::path_of(const std::string& key) const { return path_ + "." + key; }

void JsonObjectReader::fail(const std::string& key, const std::string& expected) const {
  const auto it = node_.find(key);
  const std::string got = it == node_.end() ? "nothing (the field is missing)" : describe_json(*it);
  throw InputError(file_ + ": " + path_of(key) + ": expected " + expected + ", got " + got);
}

const nlohmann::json& JsonObjectReader::at(const std::string& key) {
  known_.insert(key);
  seen_.insert(key);
  return node_.at(key);
}

std::int64_t JsonObjectReader::integer(const std::string& key, std::int64_t min, std::int64_t max) {
  if (!has(key)) fail(key, integer_text(min, max));
  const auto value = as_int64(at(key));
  if (!value || *value < min || *value > max) fail(key, integer_text(min, max));
  return *value;
}

double JsonObjectReader::number(const std::string& key, double min, double max) {
  if (!has(key)) fail(key, number_text(min, max));
  const auto& node = at(key);
  if (!node.is_number()) fail(key, number_text(min, max));
  const double value = node.get<double>();
  // Literals beyond the double range parse as infinity.
  if (!std::isfinite(value) || value < min || value > max) fail(key, number_text(min, max));
  return value;
}

std::string JsonObjectReader::string(const std::string& key) {
  if (!has(key) || !at(key).is_string()) fail(key, "a string");
  return at(key).get<std::string>();
}

bool JsonObjectReader::boolean(const std::string& key) {
  if (!has(key) || !at(key).is_boolean()) fail(key, "true or false");
  return at(key).get<bool>();
}

const nlohmann::json& JsonObjectReader::object(const std::string& key) {
  if (!has(key) || !at(key).is_object()) fail(key, "an object");
  return at(key);
}

const nlohmann::json& JsonObjectReader::array(const std::string& key) {
  if (!has(key) || !at(key).is_array()) fail(key, "a list");
  return at(key);
}

std::vector<std::int64_t> JsonObjectReader::integer_list(const std::string& key, std::int64_t min, std::int64_t max,
                                                         std::size_t min_len, std::size_t max_len) {
  const std::string count =
      min_len == max_len ? std::to_string(min_len) : std::to_string(min_len) + " to " + std::to_string(max_len);
  const std::string expected = "a list of " + count + (max_len == 1 ? " integer" : " integers") + range_text(min, max);
  if (!has(key) || !at(key).is_array()) fail(key, expected);
  const auto& list = at(key);
  if (list.size() < min_len || list.size() > max_len) fail(key, expected);
  std::vector<std::int64_t> values;
  values.reserve(list.size());
  for (const auto& element : list) {
    const auto value = as_int64(element);
    if (!value || *value < min || *value > max) fail(key, expected);
    values.push_back(*value);
  }
  return values;
}

std::int64_t JsonObjectReader::integer_or(const std::string& key, std::int64_t min, std::int64_t max,
                                          std::int64_t fallback) {
  return has(key) ? integer(key, min, max) : fallback;
}

double JsonObjectReader::number_or(const std::string& key, double min, double max, double fallback) {
  return has(key) ? number(key, min, max) : fallback;
}

std::string JsonObjectReader::string_or(const std::string& key, const std::string& fallback) {
  return has(key) ? string(key) : fallback;
}

bool JsonObjectReader::boolean_or(const std::string& key, bool fallback) { return has(key) ? boolean(key) : fallback; }

JsonObjectReader JsonObjectReader::child(const std::string& key) {
  return JsonObjectReader(object(key), file_, path_of(key));
}

void JsonObjectReader::finish() const {
  for (const auto& [key, value] : node_.items()) {
    if (seen_.count(key) != 0) continue;
    std::string expected;
    for (const auto& name : known_) expected += (expected.empty() ? "" : ", ") + name;
    throw InputError(
        file_ + ": " + path_of(key) + ": unknown field" +
        (expected.empty() ? std::string(" (expected no fields here)") : " (expected one of: " + expected + ")"));
  }
}

}  // namespace npusim
