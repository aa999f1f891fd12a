// What the DMA engine sees of off-chip memory: a transfer in, a completion time
// out. Implementations: a zero-time port (no memory model), a fixed
// bandwidth/latency `ideal` memory, the built-in DRAM timing model, and a
// TLM-2.0 initiator that reaches any TLM-2.0 memory target.
#pragma once

#include <cstdint>

namespace npusim {

class MemoryPort {
 public:
  virtual ~MemoryPort() = default;
  // Moves `bytes` at `address` (read from or written to memory), starting no
  // earlier than `issue_ps`; returns when the last byte has moved (ps).
  // Calls come in non-decreasing issue_ps order.
  virtual std::int64_t transfer(std::uint64_t address, std::int64_t bytes, bool is_write, std::int64_t issue_ps) = 0;
  // Theoretical peak bandwidth, GB/s (0 = unbounded).
  virtual double peak_gbps() const = 0;
};

// Completes every transfer at its issue time: the array never waits for data.
class UnboundedMemoryPort final : public MemoryPort {
 public:
  std::int64_t transfer(std::uint64_t, std::int64_t, bool, std::int64_t issue_ps) override { return issue_ps; }
  double peak_gbps() const override { return 0.0; }
};

}  // namespace npusim
