#include "models/npy_io.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string_view>

#include "models/bounded_read.h"
#include "models/input_error.h"

namespace npusim {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicBytes = 6;
// numpy limits a header to 64 KiB unless told otherwise; a longer one is
// not a file numpy wrote.
constexpr std::uint32_t kMaxHeaderBytes = 1 << 16;

struct TypeInfo {
  NpyType type;
  const char* descr;
  const char* name;
  int bytes;
};
constexpr TypeInfo kTypes[] = {{NpyType::f32, "<f4", "float32", 4}, {NpyType::f64, "<f8", "float64", 8},
                               {NpyType::i8, "|i1", "int8", 1},     {NpyType::u8, "|u1", "uint8", 1},
                               {NpyType::i32, "<i4", "int32", 4},   {NpyType::i64, "<i8", "int64", 8}};

const TypeInfo& info(NpyType type) {
  for (const auto& t : kTypes) {
    if (t.type == type) return t;
  }
  return kTypes[0];
}

[[noreturn]] void fail(const std::string& path, const std::string& what) { throw InputError(path + ": " + what); }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

// The text after "'key':" up to the matching end (a quoted string, a tuple or
// a bare word), or nothing if the key is absent.
std::optional<std::string_view> field(std::string_view header, std::string_view key) {
  const std::string quoted = "'" + std::string(key) + "'";
  const auto at = header.find(quoted);
  if (at == std::string_view::npos) return std::nullopt;
  auto rest = header.substr(at + quoted.size());
  const auto colon = rest.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  rest = trim(rest.substr(colon + 1));
  std::size_t end = 0;
  if (!rest.empty() && (rest[0] == '\'' || rest[0] == '"')) {
    end = rest.find(rest[0], 1);
    return end == std::string_view::npos ? std::nullopt : std::optional(rest.substr(1, end - 1));
  }
  if (!rest.empty() && rest[0] == '(') {
    end = rest.find(')');
    return end == std::string_view::npos ? std::nullopt : std::optional(rest.substr(1, end - 1));
  }
  end = rest.find_first_of(",}");
  return trim(rest.substr(0, end));
}

std::vector<std::int64_t> parse_shape(const std::string& path, std::string_view text) {
  std::vector<std::int64_t> shape;
  std::string_view rest = text;
  while (!(rest = trim(rest)).empty()) {
    const auto comma = rest.find(',');
    const std::string item(trim(rest.substr(0, comma)));
    if (item.empty() || item.find_first_not_of("0123456789") != std::string::npos || item.size() > 15) {
      fail(path, "expected a shape of non-negative integers in the header, got (" + std::string(text) + ")");
    }
    shape.push_back(std::stoll(item));
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  return shape;
}

std::uint64_t file_size_or_fail(const std::string& path) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  if (error) fail(path, "cannot read the file (" + error.message() + ")");
  return size;
}

}  // namespace

const char* to_string(NpyType type) { return info(type).name; }
const char* npy_descr(NpyType type) { return info(type).descr; }
int npy_item_bytes(NpyType type) { return info(type).bytes; }

std::int64_t NpyArray::elements() const {
  std::int64_t n = 1;
  for (const auto d : shape) n *= d;
  return n;
}

std::vector<double> NpyArray::as_double() const {
  const auto n = static_cast<std::size_t>(elements());
  std::vector<double> out(n);
  const std::uint8_t* p = bytes.data();
  for (std::size_t i = 0; i < n; ++i) {
    switch (type) {
      case NpyType::f32: {
        float v;
        std::memcpy(&v, p + 4 * i, 4);
        out[i] = v;
        break;
      }
      case NpyType::f64: {
        double v;
        std::memcpy(&v, p + 8 * i, 8);
        out[i] = v;
        break;
      }
      case NpyType::i8: out[i] = static_cast<std::int8_t>(p[i]); break;
      case NpyType::u8: out[i] = p[i]; break;
      case NpyType::i32: {
        std::int32_t v;
        std::memcpy(&v, p + 4 * i, 4);
        out[i] = v;
        break;
      }
      case NpyType::i64: {
        std::int64_t v;
        std::memcpy(&v, p + 8 * i, 8);
        out[i] = static_cast<double>(v);
        break;
      }
    }
  }
  return out;
}

NpyArray read_npy(const std::string& path) {
  const std::uint64_t size = file_size_or_fail(path);
  if (size > kMaxBinaryInputBytes) {
    fail(path, "is " + std::to_string(size) + " bytes, more than the " + std::to_string(kMaxBinaryInputBytes) +
                   " read for a .npy file");
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) fail(path, "cannot open the file");
  unsigned char preamble[12] = {};
  file.read(reinterpret_cast<char*>(preamble), 10);
  if (file.gcount() < 10 || std::memcmp(preamble, kMagic, kMagicBytes) != 0) {
    fail(path, "expected a NumPy .npy file (magic \\x93NUMPY)");
  }
  const int major = preamble[6];
  if (major < 1 || major > 3) fail(path, "expected .npy format version 1, 2 or 3, got " + std::to_string(major));
  std::uint32_t header_bytes = preamble[8] | (preamble[9] << 8);
  std::uint64_t prefix = 10;
  if (major >= 2) {
    file.read(reinterpret_cast<char*>(preamble + 10), 2);
    if (file.gcount() < 2) fail(path, "the header ends early");
    header_bytes |= (std::uint32_t{preamble[10]} << 16) | (std::uint32_t{preamble[11]} << 24);
    prefix = 12;
  }
  if (header_bytes > kMaxHeaderBytes || prefix + header_bytes > size) {
    fail(path, "the header length (" + std::to_string(header_bytes) + " bytes) exceeds the file");
  }
  std::string header(header_bytes, '\0');
  file.read(header.data(), header_bytes);
  const auto descr = field(header, "descr");
  const auto fortran = field(header, "fortran_order");
  const auto shape_text = field(header, "shape");
  if (!descr || !fortran || !shape_text) {
    fail(path, "expected a header dict with 'descr', 'fortran_order' and 'shape'");
  }
  NpyArray array;
  bool known = false;
  for (const auto& t : kTypes) {
    const std::string_view d = *descr;
    // int8 / uint8 may be written '|i1' or '<i1'; every other type must be little-endian.
    const bool same = d == t.descr || (t.bytes == 1 && d.size() == 3 && d[0] == '<' && d.substr(1) == t.descr + 1);
    if (same) {
      array.type = t.type;
      known = true;
    }
  }
  if (!known) {
    const bool big = !descr->empty() && (*descr)[0] == '>';
    fail(path, std::string(big ? "big-endian dtype '" : "unsupported dtype '") + std::string(*descr) +
                   "' (expected little-endian float32 '<f4', float64 '<f8', int8 '|i1', uint8 '|u1', int32 '<i4' or "
                   "int64 '<i8')");
  }
  if (*fortran != "False") {
    fail(path, "expected a C-order array (fortran_order False), got fortran_order " + std::string(*fortran) +
                   " (save np.ascontiguousarray(x))");
  }
  array.shape = parse_shape(path, *shape_text);
  // Overflow-safe element count, bounded by the bytes actually present.
  const std::uint64_t available = size - prefix - header_bytes;
  const auto item = static_cast<std::uint64_t>(npy_item_bytes(array.type));
  std::uint64_t expected = item;
  for (const auto d : array.shape) {
    const auto dim = static_cast<std::uint64_t>(d);
    if (dim != 0 && expected > available / dim) {
      expected = available + 1;  // more than is there; the exact figure does not matter
      break;
    }
    expected *= dim;
  }
  if (expected != available) {
    fail(path, "the shape (" + std::string(*shape_text) + ") of " + to_string(array.type) + " needs " +
                   (expected > available ? "more than " + std::to_string(available) : std::to_string(expected)) +
                   " payload bytes, the file has " + std::to_string(available) +
                   (expected > available ? " (truncated?)" : ""));
  }
  array.bytes.resize(static_cast<std::size_t>(available));
  file.read(reinterpret_cast<char*>(array.bytes.data()), static_cast<std::streamsize>(available));
  if (static_cast<std::uint64_t>(file.gcount()) != available) fail(path, "the payload ends early");
  return array;
}

void write_npy(const std::string& path, const NpyArray& array) {
  std::string shape;  // Python's tuple syntax: (), (5,), (2, 3)
  for (std::size_t i = 0; i < array.shape.size(); ++i) shape += (i ? ", " : "") + std::to_string(array.shape[i]);
  if (array.shape.size() == 1) shape += ",";
  std::string header =
      std::string("{'descr': '") + npy_descr(array.type) + "', 'fortran_order': False, 'shape': (" + shape + "), }";
  const bool v2 = header.size() + 11 > 65535;
  const std::size_t prefix = v2 ? 12 : 10;
  header.append((64 - (prefix + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  const std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) fail(path, "cannot write the file (cannot create " + temp + ")");
    out.write(kMagic, kMagicBytes);
    const auto n = static_cast<std::uint32_t>(header.size());
    const char version[2] = {static_cast<char>(v2 ? 2 : 1), 0};
    out.write(version, 2);
    const char length[4] = {static_cast<char>(n & 0xff), static_cast<char>((n >> 8) & 0xff),
                            static_cast<char>((n >> 16) & 0xff), static_cast<char>((n >> 24) & 0xff)};
    out.write(length, v2 ? 4 : 2);
    out << header;
    // The host is little-endian (x86-64, AArch64), as the descr says.
    out.write(reinterpret_cast<const char*>(array.bytes.data()), static_cast<std::streamsize>(array.bytes.size()));
    out.close();
    if (!out) {
      std::remove(temp.c_str());
      fail(path, "cannot write the file (write to " + temp + " failed)");
    }
  }
  std::error_code error;
  std::filesystem::rename(temp, path, error);
  if (error) {
    std::remove(temp.c_str());
    fail(path, "cannot write the file (" + error.message() + ")");
  }
}

NpyArray npy_float32(std::vector<std::int64_t> shape, const std::vector<float>& values) {
  NpyArray a;
  a.type = NpyType::f32;
  a.shape = std::move(shape);
  a.bytes.resize(values.size() * 4);
  std::memcpy(a.bytes.data(), values.data(), a.bytes.size());
  return a;
}

NpyArray npy_int8(std::vector<std::int64_t> shape, const std::vector<std::int8_t>& values) {
  NpyArray a;
  a.type = NpyType::i8;
  a.shape = std::move(shape);
  a.bytes.resize(values.size());
  std::memcpy(a.bytes.data(), values.data(), a.bytes.size());
  return a;
}

}  // namespace npusim
