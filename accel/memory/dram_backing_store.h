// The bytes behind the DRAM model: a sparse store that allocates a page on its
// first write. Never-written memory reads as zeros, so a model of several GB
// costs only what the run actually writes.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <unordered_map>

namespace npusim {

class DramBackingStore {
 public:
  static constexpr std::uint64_t kPageBytes = 4096;

  void read(std::uint64_t address, std::uint8_t* out, std::uint64_t bytes) const;
  void write(std::uint64_t address, const std::uint8_t* in, std::uint64_t bytes);

  std::uint64_t allocated_bytes() const { return pages_.size() * kPageBytes; }

 private:
  using Page = std::array<std::uint8_t, kPageBytes>;
  std::unordered_map<std::uint64_t, std::unique_ptr<Page>> pages_;  // keyed by address / kPageBytes
};

}  // namespace npusim
