// A TLM-2.0 traffic generator for the off-chip memory: an approximately timed
// initiator that keeps a fixed number of requests in flight over
// nb_transport_fw and issues the next one the moment one completes (a closed
// loop, as DRAMsim3's and Ramulator's generators characterise a memory).
// dram-bench drives the DRAM model through it and the DramTarget, the same
// target the DMA uses, so the figures are those of the target behind the
// socket, whichever it is.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include <tlm_utils/simple_initiator_socket.h>
#include <systemc>
#include <tlm>

namespace npusim {

class DramTrafficInitiator : public sc_core::sc_module {
 public:
  struct Request {
    std::uint64_t address = 0;
    std::uint32_t bytes = 0;
    bool is_write = false;
  };
  // The next request to send; nullopt when the run has sent all it wants.
  using NextRequest = std::function<std::optional<Request>()>;
  // Each response, with its request's issue and completion times in ps from
  // the start of the run.
  using Completed = std::function<void(const Request&, std::int64_t issue_ps, std::int64_t done_ps)>;

  tlm_utils::simple_initiator_socket<DramTrafficInitiator> socket;

  explicit DramTrafficInitiator(sc_core::sc_module_name name);

  // Runs the kernel until every request `next` hands out has completed:
  // `outstanding` are sent at the start, then one per completion. Throws
  // std::runtime_error naming the TLM response of a request the target
  // rejected, or when the kernel runs out of events with requests in flight.
  // Returns the kernel time of the run's start, in ps.
  std::int64_t run_closed_loop(int outstanding, NextRequest next, Completed completed);

 private:
  struct Slot {
    tlm::tlm_generic_payload payload;
    std::vector<unsigned char> data;
    Request request;
    std::int64_t issue_ps = 0;
  };

  void start_thread();
  // Sends the next request on `slot`, `delay` after the kernel's time; false
  // when there is none.
  bool send(Slot& slot, const sc_core::sc_time& delay);
  tlm::tlm_sync_enum nb_transport_bw(tlm::tlm_generic_payload& payload, tlm::tlm_phase& phase, sc_core::sc_time& delay);
  std::int64_t now_ps(const sc_core::sc_time& delay) const;

  std::vector<std::unique_ptr<Slot>> slots_;
  std::unordered_map<const tlm::tlm_generic_payload*, Slot*> slot_of_;
  NextRequest next_;
  Completed completed_;
  int in_flight_ = 0;
  bool running_ = false;
  bool start_requested_ = false;  // a notification before the kernel's initialization is lost
  std::int64_t origin_ps_ = 0;
  std::optional<tlm::tlm_response_status> error_;
  sc_core::sc_event start_;
};

}  // namespace npusim
