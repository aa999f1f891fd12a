// The on-chip SRAM buffers of the accelerator: one scratchpad each for the
// input feature map, the weights and the output/accumulator, each with its
// capacity, banks, word width and ports. Hardware parameters only; the mapper
// (sim/mapper/memory_plan) decides how a layer uses them.
#pragma once

#include <cstdint>
#include <string_view>

namespace npusim {

enum class BufferKind { ifmap, weight, ofmap };
inline constexpr int kBufferKinds = 3;
std::string_view to_string(BufferKind kind);

struct SramConfig {
  std::int64_t capacity_bytes = 256 * 1024;
  int banks = 8;
  int word_bytes = 16;
  int read_ports = 1;
  int write_ports = 1;
  // Bytes per cycle the buffer can deliver / accept: every bank moves one word
  // per port per cycle.
  std::int64_t read_bytes_per_cycle() const { return std::int64_t{banks} * word_bytes * read_ports; }
  std::int64_t write_bytes_per_cycle() const { return std::int64_t{banks} * word_bytes * write_ports; }
};

struct SramSet {
  SramConfig ifmap, weight, ofmap;
  const SramConfig& operator[](BufferKind kind) const;
};

}  // namespace npusim
