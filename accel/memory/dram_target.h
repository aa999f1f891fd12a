// The off-chip memory as a TLM-2.0 target: loosely timed blocking transport
// over a DramModel (timing) and a DramBackingStore (data). Any other TLM-2.0
// memory (a full DRAM simulator, say) can take its place behind the DMA.
//
// b_transport: the request arrives at sc_time_stamp() + delay (less the origin
// of the current run, see reset()); the model says
// when its last byte has moved, and the difference is added to `delay` (no
// wait() inside: the initiator syncs, per the LT coding style).
// Rejected with the matching TLM response, without touching data or timing:
// byte enables (TLM_BYTE_ENABLE_ERROR_RESPONSE), a streaming width below the
// length (TLM_BURST_ERROR_RESPONSE) and bytes beyond the capacity
// (TLM_ADDRESS_ERROR_RESPONSE). transport_dbg moves data with no time.
#pragma once

#include <cstdint>
#include <memory>

#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include "accel/memory/dram_backing_store.h"
#include "accel/memory/dram_model.h"

namespace npusim {

class DramTarget : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<DramTarget> socket;

  // Throws std::invalid_argument for a config validate() rejects.
  DramTarget(sc_core::sc_module_name name, const DramConfig& config);

  // A fresh model and an empty store for the next run, whose time 0 is the
  // kernel's `origin_ps` (one target per process: SystemC builds no module
  // once the kernel has run). Throws like the constructor.
  void reset(const DramConfig& config, std::int64_t origin_ps);

  const DramModel& model() const { return *model_; }
  DramModel& model() { return *model_; }
  // Data loaded here (weights, inputs) costs no simulated time.
  DramBackingStore& store() { return store_; }
  const DramBackingStore& store() const { return store_; }

 private:
  void b_transport(tlm::tlm_generic_payload& payload, sc_core::sc_time& delay);
  unsigned int transport_dbg(tlm::tlm_generic_payload& payload);
  tlm::tlm_response_status check(const tlm::tlm_generic_payload& payload) const;
  void move_data(tlm::tlm_generic_payload& payload);

  std::unique_ptr<DramModel> model_;
  DramBackingStore store_;
  std::uint64_t capacity_bytes_ = 0;
  std::int64_t origin_ps_ = 0;  // kernel time of the model's time 0
};

}  // namespace npusim
