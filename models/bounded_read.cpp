#include "models/bounded_read.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "models/input_error.h"

namespace npusim {
namespace {

std::string hex_byte(unsigned char value) {
  constexpr char kDigits[] = "0123456789abcdef";
  return std::string("0x") + kDigits[value >> 4] + kDigits[value & 15];
}

// Length of the well-formed UTF-8 sequence starting at text[i] (RFC 3629:
// no overlong forms, no surrogates, nothing above U+10FFFF), or 0.
std::size_t utf8_sequence_length(const std::string& text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF)
    length = 2;
  else if (lead == 0xE0)
    length = 3, lo = 0xA0;
  else if (lead >= 0xE1 && lead <= 0xEC)
    length = 3;
  else if (lead == 0xED)
    length = 3, hi = 0x9F;
  else if (lead >= 0xEE && lead <= 0xEF)
    length = 3;
  else if (lead == 0xF0)
    length = 4, lo = 0x90;
  else if (lead >= 0xF1 && lead <= 0xF3)
    length = 4;
  else if (lead == 0xF4)
    length = 4, hi = 0x8F;
  else
    return 0;
  if (i + length > text.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return length;
}

// "a JSON file", "an ONNX file".
std::string a_file(const std::string& what) {
  const bool vowel = !what.empty() && std::string("AEIOUaeiou").find(what[0]) != std::string::npos;
  return std::string(vowel ? "an " : "a ") + what + " file";
}

}  // namespace

void check_input_file(const std::string& path, const std::string& what) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    if (errno == ENOENT) throw InputError(path + ": cannot open");  // the plain message readers always gave
    throw InputError(path + ": cannot open (" + std::strerror(errno) + ")");
  }
  if (S_ISDIR(info.st_mode)) throw InputError(path + ": is a directory, expected " + a_file(what));
  if (S_ISCHR(info.st_mode) || S_ISBLK(info.st_mode)) {
    throw InputError(path + ": is a device, expected " + a_file(what));
  }
  if (S_ISSOCK(info.st_mode)) throw InputError(path + ": is a socket, expected " + a_file(what));
}

std::string read_file_bounded(const std::string& path, std::uint64_t max_bytes, const std::string& what) {
  check_input_file(path, what);
  const std::string limit = max_bytes >= (1u << 20) && max_bytes % (1u << 20) == 0
                                ? std::to_string(max_bytes >> 20) + " MiB"
                                : std::to_string(max_bytes) + "-byte";
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
      static_cast<std::uint64_t>(info.st_size) > max_bytes) {
    throw InputError(path + ": is " + std::to_string(info.st_size) + " bytes, over the " + limit + " limit for " +
                     a_file(what));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open (" + std::strerror(errno) + ")");
  std::string bytes;
  char chunk[1 << 16];
  while (in) {
    in.read(chunk, sizeof chunk);
    bytes.append(chunk, static_cast<std::size_t>(in.gcount()));
    if (bytes.size() > max_bytes) {
      throw InputError(path + ": is over the " + limit + " limit for " + a_file(what));
    }
  }
  if (in.bad()) throw InputError(path + ": cannot read (" + std::strerror(errno) + ")");
  return bytes;
}

std::optional<std::int64_t> checked_mul(std::int64_t a, std::int64_t b) {
  std::int64_t product = 0;
  if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &product)) return std::nullopt;
  return product;
}

std::optional<std::int64_t> checked_add(std::int64_t a, std::int64_t b) {
  std::int64_t sum = 0;
  if (a < 0 || b < 0 || __builtin_add_overflow(a, b, &sum)) return std::nullopt;
  return sum;
}

std::optional<std::size_t> first_invalid_utf8(const std::string& text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = utf8_sequence_length(text, i);
    if (length == 0) return i;
    i += length;
  }
  return std::nullopt;
}

void require_utf8(const std::string& text, const std::string& where, std::size_t base_offset) {
  if (const auto offset = first_invalid_utf8(text)) {
    throw InputError(where + ": invalid UTF-8 at byte " + std::to_string(base_offset + *offset) + " (" +
                     hex_byte(static_cast<unsigned char>(text[*offset])) + ")");
  }
}

}  // namespace npusim
