// Reading input files without trusting them: a size cap before any byte is
// held, a directory or device named as such, overflow-checked size products
// and UTF-8 validation with the byte offset. Every reader of a user file
// (JSON, CSV, ONNX, IDX, .npy) goes through these, so a hostile or careless
// input is a one-line InputError (exit 1), never bad_alloc or a crash.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace npusim {

// Caps on a file read whole into memory. A real npusim config, network or
// sweep is a few kB; the largest ONNX in the zoo is 83 kB, a ResNet-50 is
// ~100 MB. The caps only stop /dev/zero-like inputs from filling memory.
inline constexpr std::uint64_t kMaxTextInputBytes = std::uint64_t{64} << 20;  // JSON, CSV: 64 MiB
inline constexpr std::uint64_t kMaxBinaryInputBytes = std::uint64_t{1}
                                                      << 31;  // ONNX, .npy: 2 GiB (protobuf's own limit)

// Deepest JSON nesting accepted. npusim's own files nest 4 levels; the cap
// keeps the parser's and the error printer's recursion far from the stack limit.
inline constexpr int kMaxJsonDepth = 64;

// Throws InputError unless `path` names something that can be read as a file:
// "<path>: cannot open" (with the reason unless the file is missing), "<path>: is a directory, expected a
// <what> file", "<path>: is a device, expected a <what> file". A pipe is allowed
// (read_file_bounded still caps it).
void check_input_file(const std::string& path, const std::string& what);

// The whole content of `path`, at most `max_bytes` of it: a larger file is an
// InputError naming its size and the cap, found before the bytes are read
// (a pipe: after max_bytes + 1 of them). `what` names the kind of file
// ("JSON", "SCALE-Sim CSV", "ONNX model") in messages.
std::string read_file_bounded(const std::string& path, std::uint64_t max_bytes, const std::string& what);

// a * b, or nullopt when it overflows int64 or either factor is negative.
std::optional<std::int64_t> checked_mul(std::int64_t a, std::int64_t b);
// a + b, or nullopt when it overflows int64 or either term is negative.
std::optional<std::int64_t> checked_add(std::int64_t a, std::int64_t b);

// The byte offset (from 0) of the first byte of `text` that is not part of a
// well-formed UTF-8 sequence, or nullopt when all of it is valid UTF-8.
std::optional<std::size_t> first_invalid_utf8(const std::string& text);

// Throws InputError("<where>: invalid UTF-8 at byte <offset> (0x..)") when
// `text` is not valid UTF-8; `base_offset` is added to the reported offset (the
// position of `text` inside its file).
void require_utf8(const std::string& text, const std::string& where, std::size_t base_offset = 0);

}  // namespace npusim
