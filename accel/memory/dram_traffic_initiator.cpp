#include "accel/memory/dram_traffic_initiator.h"

#include "accel/memory/kernel_time.h"

#include <stdexcept>
#include <string>
#include <utility>

namespace npusim {

DramTrafficInitiator::DramTrafficInitiator(sc_core::sc_module_name name) : sc_core::sc_module(name), socket("socket") {
  socket.register_nb_transport_bw(this, &DramTrafficInitiator::nb_transport_bw);
  SC_HAS_PROCESS(DramTrafficInitiator);
  SC_THREAD(start_thread);
}

std::int64_t DramTrafficInitiator::now_ps(const sc_core::sc_time& delay) const {
  return to_ps(sc_core::sc_time_stamp() + delay) - origin_ps_;
}

bool DramTrafficInitiator::send(Slot& slot, const sc_core::sc_time& delay) {
  const std::optional<Request> request = next_();
  if (!request) return false;
  slot.request = *request;
  slot.data.resize(request->bytes);
  tlm::tlm_generic_payload& p = slot.payload;
  p.set_command(request->is_write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
  p.set_address(request->address);
  p.set_data_ptr(slot.data.data());
  p.set_data_length(request->bytes);
  p.set_streaming_width(request->bytes);
  p.set_byte_enable_ptr(nullptr);
  p.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  slot.issue_ps = now_ps(delay);
  ++in_flight_;
  tlm::tlm_phase phase = tlm::BEGIN_REQ;
  sc_core::sc_time annotated = delay;
  const tlm::tlm_sync_enum answer = socket->nb_transport_fw(p, phase, annotated);
  if (answer == tlm::TLM_COMPLETED) {  // rejected (or served) on the spot
    --in_flight_;
    if (p.get_response_status() != tlm::TLM_OK_RESPONSE) {
      if (!error_) error_ = p.get_response_status();
      return false;
    }
    completed_(slot.request, slot.issue_ps, now_ps(annotated));
    return send(slot, annotated);
  }
  return true;
}

void DramTrafficInitiator::start_thread() {
  while (true) {
    while (!start_requested_) sc_core::wait(start_);
    start_requested_ = false;
    for (auto& slot : slots_) {
      if (!send(*slot, sc_core::SC_ZERO_TIME)) break;
    }
    if (in_flight_ == 0) running_ = false;
  }
}

tlm::tlm_sync_enum DramTrafficInitiator::nb_transport_bw(tlm::tlm_generic_payload& payload, tlm::tlm_phase& phase,
                                                         sc_core::sc_time& delay) {
  if (phase != tlm::BEGIN_RESP) return tlm::TLM_ACCEPTED;  // END_REQ: nothing to do
  Slot& slot = *slot_of_.at(&payload);
  --in_flight_;
  if (payload.get_response_status() != tlm::TLM_OK_RESPONSE) {
    if (!error_) error_ = payload.get_response_status();
  } else {
    completed_(slot.request, slot.issue_ps, now_ps(delay));
    if (!error_) send(slot, delay);
  }
  if (in_flight_ == 0) running_ = false;
  phase = tlm::END_RESP;
  return tlm::TLM_COMPLETED;
}

std::int64_t DramTrafficInitiator::run_closed_loop(int outstanding, NextRequest next, Completed completed) {
  if (outstanding < 1) throw std::invalid_argument("DramTrafficInitiator: outstanding must be at least 1");
  slots_.clear();
  slot_of_.clear();
  for (int i = 0; i < outstanding; ++i) {
    slots_.push_back(std::make_unique<Slot>());
    slot_of_[&slots_.back()->payload] = slots_.back().get();
  }
  next_ = std::move(next);
  completed_ = std::move(completed);
  in_flight_ = 0;
  error_.reset();
  origin_ps_ = now_ps(sc_core::SC_ZERO_TIME);
  running_ = true;
  start_requested_ = true;
  start_.notify(sc_core::SC_ZERO_TIME);
  // In slices, since a clock elsewhere in the process (pe fidelity) keeps the
  // kernel from running out of events.
  const sc_core::sc_time slice(1, sc_core::SC_MS);
  while (running_) {
    if (sc_core::sc_get_status() == sc_core::SC_PAUSED && !sc_core::sc_pending_activity()) {
      throw std::runtime_error("dram traffic: the memory target stopped responding with " + std::to_string(in_flight_) +
                               " requests in flight");
    }
    sc_core::sc_start(slice);
  }
  if (error_) {
    tlm::tlm_generic_payload status;
    status.set_response_status(*error_);
    throw std::runtime_error("dram traffic: the memory target answered " + status.get_response_string());
  }
  return origin_ps_;
}

}  // namespace npusim
