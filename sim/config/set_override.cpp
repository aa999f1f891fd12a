#include "sim/config/set_override.h"

#include <cctype>

#include "models/bounded_read.h"
#include "models/input_error.h"
#include "models/json_reader.h"

namespace npusim {
namespace {

bool is_path_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '$' || c == '[' || c == ']' ||
         c == '-';
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

// Whether two JSON paths are equal or one lies inside the other; the root "$"
// contains everything and so says nothing about a particular override.
bool paths_related(const std::string& named, const std::string& path) {
  if (named == path) return true;
  if (named != "$" && starts_with(path, named + ".")) return true;
  return starts_with(named, path + ".") || starts_with(named, path + "[");
}

}  // namespace

std::string SetOverride::json_path() const {
  std::string path = "$";
  for (const auto& key : keys) path += "." + key;
  return path;
}

SetOverride parse_set_override(const std::string& text) {
  // Everything below may print or store the text: bytes that are not UTF-8
  // would make the error printer and the JSON report throw.
  require_utf8(text, "--set");
  const auto eq = text.find('=');
  if (eq == std::string::npos) {
    throw InputError("--set " + text + ": expected key=value, e.g. array.rows=64");
  }
  SetOverride result;
  result.text = text;
  const std::string key = text.substr(0, eq);
  std::size_t start = 0;
  while (true) {
    const auto dot = key.find('.', start);
    const std::string segment = key.substr(start, dot == std::string::npos ? dot : dot - start);
    if (segment.empty()) {
      throw InputError("--set " + text + ": expected a dotted key such as array.rows before '='");
    }
    result.keys.push_back(segment);
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  const std::string value = text.substr(eq + 1);
  check_json_depth(value, "--set " + key);
  // Numbers and booleans are JSON; everything else (int4, ws, a name) is a string.
  auto parsed = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
  result.value = parsed.is_discarded() ? nlohmann::json(value) : std::move(parsed);
  return result;
}

void apply_set_override(nlohmann::json& document, const SetOverride& set_override) {
  nlohmann::json* node = &document;
  std::string path = "$";
  for (std::size_t i = 0; i + 1 < set_override.keys.size(); ++i) {
    const auto& key = set_override.keys[i];
    path += "." + key;
    if (!node->contains(key)) {
      (*node)[key] = nlohmann::json::object();
    } else if (!(*node)[key].is_object()) {
      throw InputError("--set " + set_override.text + ": " + path + " is a " + std::string((*node)[key].type_name()) +
                       ", not an object with fields");
    }
    node = &(*node)[key];
  }
  (*node)[set_override.keys.back()] = set_override.value;
}

bool message_concerns_path(const std::string& message, const std::string& json_path) {
  for (std::size_t i = 0; i < message.size(); ++i) {
    if (message[i] != '$') continue;
    std::size_t end = i;
    while (end < message.size() && is_path_char(message[end])) ++end;
    std::string named = message.substr(i, end - i);
    while (named.size() > 1 && named.back() == '.') named.pop_back();  // sentence end
    if (paths_related(named, json_path)) return true;
    i = end - 1;
  }
  return false;
}

}  // namespace npusim
