#include "models/python_text.h"

#include <cstdio>
#include <limits>

namespace npusim {
namespace {

// The code point starting at text[i] and its length in bytes (valid UTF-8).
std::pair<char32_t, std::size_t> decode(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[i + k]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return {lead, 1};
  if (lead < 0xE0) return {static_cast<char32_t>(((lead & 0x1F) << 6) | (byte(1) & 0x3F)), 2};
  if (lead < 0xF0) {
    return {static_cast<char32_t>(((lead & 0x0F) << 12) | ((byte(1) & 0x3F) << 6) | (byte(2) & 0x3F)), 3};
  }
  return {static_cast<char32_t>(((lead & 0x07) << 18) | ((byte(1) & 0x3F) << 12) | ((byte(2) & 0x3F) << 6) |
                                (byte(3) & 0x3F)),
          4};
}

// Python's str.isspace(), which strip() and int() use.
bool python_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// Where the code point ending just before `end` starts.
std::size_t previous_start(std::string_view text, std::size_t end) {
  std::size_t start = end - 1;
  while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
  return start;
}

bool digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::size_t python_leading_space(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto [c, length] = decode(text, i);
    if (!python_space(c)) break;
    i += length;
  }
  return i;
}

std::string_view python_strip(std::string_view text) {
  text.remove_prefix(python_leading_space(text));
  while (!text.empty()) {
    const std::size_t start = previous_start(text, text.size());
    if (!python_space(decode(text, start).first)) break;
    text.remove_suffix(text.size() - start);
  }
  return text;
}

std::optional<std::int64_t> python_int(std::string_view text) {
  text = python_strip(text);
  bool negative = false;
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text.empty() || !digit(text.front()) || !digit(text.back())) return std::nullopt;
  // Magnitudes up to 2^63, so that INT64_MIN reads too.
  constexpr std::uint64_t kLimit = std::uint64_t{1} << 63;
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '_') {
      if (!digit(text[i + 1])) return std::nullopt;  // "1__0"; the last character is a digit
      continue;
    }
    if (!digit(text[i])) return std::nullopt;
    const std::uint64_t d = static_cast<std::uint64_t>(text[i] - '0');
    if (value > (kLimit - d) / 10) return std::nullopt;
    value = value * 10 + d;
  }
  if (negative) return value == kLimit ? std::numeric_limits<std::int64_t>::min() : -static_cast<std::int64_t>(value);
  if (value == kLimit) return std::nullopt;
  return static_cast<std::int64_t>(value);
}

std::vector<std::string_view> python_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\n' && text[i] != '\r') continue;
    lines.push_back(text.substr(start, i - start));
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
    start = i + 1;
  }
  if (start < text.size()) lines.push_back(text.substr(start));
  return lines;
}

std::size_t count_characters(std::string_view text) {
  std::size_t count = 0;
  for (const char c : text) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return count;
}

std::string describe_unusual_characters(std::string_view text, std::size_t first_column) {
  constexpr int kNamed = 4;
  std::string named;
  int count = 0;
  std::size_t column = first_column;
  for (std::size_t i = 0; i < text.size(); ++column) {
    const auto [c, length] = decode(text, i);
    i += length;
    if (c >= 0x20 && c < 0x7F) continue;
    if (++count > kNamed) continue;
    char name[48];
    std::snprintf(name, sizeof name, "%sU+%04X at column %zu", named.empty() ? "" : ", ", static_cast<unsigned>(c),
                  column);
    named += name;
  }
  if (count == 0) return "";
  if (count > kNamed) named += " and " + std::to_string(count - kNamed) + " more";
  return " (" + named + ")";
}

}  // namespace npusim
