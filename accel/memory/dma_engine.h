// The DMA engine as a TLM-2.0 initiator: it cuts each transfer into bursts and
// sends them over its socket with blocking transport, loosely timed. Whatever
// TLM-2.0 memory target is bound to the socket (accel/memory/dram_target.h, or another
// simulator's) decides when each burst completes.
//
// The DMA keeps many bursts in flight: every burst of a transfer is annotated
// with the transfer's issue time, and the target's own queues serialize them;
// the transfer completes with its last burst. Bursts are plain data moves: the
// payload carries bytes, the target stores or returns them.
#pragma once

#include <cstdint>
#include <vector>

#include <tlm_utils/simple_initiator_socket.h>
#include <systemc>
#include <tlm>

#include "accel/memory/memory_port.h"

namespace npusim {

class DmaEngine : public sc_core::sc_module, public MemoryPort {
 public:
  tlm_utils::simple_initiator_socket<DmaEngine> socket;

  // `burst_bytes`: the largest transaction the DMA issues. `peak_gbps`: the
  // bound memory's peak, for reports.
  DmaEngine(sc_core::sc_module_name name, std::int64_t burst_bytes, double peak_gbps);

  // MemoryPort: times are on the run's time axis. The kernel's time stamp is
  // subtracted from the annotated delay, so the axes agree whenever the
  // kernel has not run ahead of the memory schedule (always, in tile fidelity).
  std::int64_t transfer(std::uint64_t address, std::int64_t bytes, bool is_write, std::int64_t issue_ps) override;
  double peak_gbps() const override { return peak_gbps_; }
  // For the next run (one engine per process).
  void configure(std::int64_t burst_bytes, double peak_gbps);

  std::uint64_t transactions() const { return transactions_; }

 private:
  std::int64_t burst_bytes_ = 1;
  double peak_gbps_ = 0.0;
  std::vector<unsigned char> buffer_;
  std::uint64_t transactions_ = 0;
};

}  // namespace npusim
