// `--set key=value` overrides of a JSON config document: "array.rows=64" sets
// $.array.rows to the number 64, "formats.weight=int4" to the string "int4".
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace npusim {

struct SetOverride {
  std::string text;               // as given, for error messages
  std::vector<std::string> keys;  // "array.rows" -> {"array", "rows"}
  nlohmann::json value;           // the value parsed as JSON if it parses, else the string
  std::string json_path() const;  // "$.array.rows"
};

// Throws InputError for text without '=' or with an empty key segment.
SetOverride parse_set_override(const std::string& text);

// Sets the value, creating missing intermediate objects (a preset may omit an
// optional section such as "ppu"). Throws InputError naming the override when an
// intermediate key holds a non-object.
void apply_set_override(nlohmann::json& document, const SetOverride& set_override);

// Whether an error message names `json_path`, one of its ancestors (other than
// the root "$") or one of its descendants: then the override that wrote
// `json_path` may be what the message is about.
bool message_concerns_path(const std::string& message, const std::string& json_path);

}  // namespace npusim
