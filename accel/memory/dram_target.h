// The off-chip memory as a TLM-2.0 target over a DramModel (timing) and a
// DramBackingStore (data). Any other TLM-2.0 memory (a full DRAM simulator,
// say) can take its place behind the DMA. The socket takes any number of
// initiators (the DMA; dram-bench's traffic generator), each in one style:
//
// Loosely timed, b_transport (the DMA): the request arrives at
// sc_time_stamp() + delay (less the origin of the current run, see reset());
// the model says when its last byte has moved, and the difference is added to
// `delay` (no wait() inside: the initiator syncs, per the LT coding style).
// One request at a time per call, so the model serves them in call order.
//
// Approximately timed, nb_transport_fw (many requests in flight): BEGIN_REQ at
// sc_time_stamp() + delay is accepted at once (TLM_UPDATED, END_REQ) and goes
// to the model's submit(), so its scheduler may reorder it with the others in
// flight. The target's responder thread sends BEGIN_RESP on the backward path
// at each completion, with the completion's offset from sc_time_stamp() as the
// annotated delay, and syncs with the kernel once it runs a quantum ahead.
// The initiator ends the response phase by returning TLM_COMPLETED (or with
// END_RESP). Data moves when the request is accepted.
//
// Rejected with the matching TLM response, without touching data or timing:
// byte enables (TLM_BYTE_ENABLE_ERROR_RESPONSE), a streaming width below the
// length (TLM_BURST_ERROR_RESPONSE) and bytes beyond the capacity
// (TLM_ADDRESS_ERROR_RESPONSE); nb_transport_fw returns such a request
// TLM_COMPLETED. transport_dbg moves data with no time.
//
// The socket (a multi-passthrough socket) completes its bindings when
// elaboration ends: run the kernel once (sc_start(SC_ZERO_TIME)) before the
// first transport call.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <tlm_utils/multi_passthrough_target_socket.h>
#include <systemc>
#include <tlm>

#include "accel/memory/dram_backing_store.h"
#include "accel/memory/dram_model.h"

namespace npusim {

class DramTarget : public sc_core::sc_module {
 public:
  tlm_utils::multi_passthrough_target_socket<DramTarget> socket;

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

  // Requests accepted on the forward path whose response is not yet sent.
  std::size_t in_flight() const { return in_flight_count_; }

 private:
  struct InFlight {
    tlm::tlm_generic_payload* payload = nullptr;
    int initiator = 0;  // socket index it came from
  };

  void b_transport(int initiator, tlm::tlm_generic_payload& payload, sc_core::sc_time& delay);
  tlm::tlm_sync_enum nb_transport_fw(int initiator, tlm::tlm_generic_payload& payload, tlm::tlm_phase& phase,
                                     sc_core::sc_time& delay);
  unsigned int transport_dbg(int initiator, tlm::tlm_generic_payload& payload);
  tlm::tlm_response_status check(const tlm::tlm_generic_payload& payload) const;
  void move_data(tlm::tlm_generic_payload& payload);
  std::int64_t model_time_ps(const sc_core::sc_time& delay) const;
  void respond_thread();

  std::unique_ptr<DramModel> model_;
  DramBackingStore store_;
  std::uint64_t capacity_bytes_ = 0;
  std::int64_t origin_ps_ = 0;       // kernel time of the model's time 0
  std::vector<InFlight> in_flight_;  // by the model's request id
  std::size_t in_flight_count_ = 0;
  sc_core::sc_event request_arrived_;  // wakes the responder when it idles
  bool responder_idle_ = true;
};

}  // namespace npusim
