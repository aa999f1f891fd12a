#include "accel/memory/dram_target.h"

#include "accel/memory/kernel_time.h"

#include <algorithm>
#include <stdexcept>

namespace npusim {
namespace {

// How far the responder may run ahead of the kernel before it syncs: long
// enough that syncs cost nothing per request (thousands of bursts), short
// enough that other processes see time move.
constexpr std::int64_t kQuantumPs = 10'000'000;  // 10 us

}  // namespace

DramTarget::DramTarget(sc_core::sc_module_name name, const DramConfig& config)
    : sc_core::sc_module(name), socket("socket") {
  reset(config, 0);
  socket.register_b_transport(this, &DramTarget::b_transport);
  socket.register_nb_transport_fw(this, &DramTarget::nb_transport_fw);
  socket.register_transport_dbg(this, &DramTarget::transport_dbg);
  SC_HAS_PROCESS(DramTarget);
  SC_THREAD(respond_thread);
}

void DramTarget::reset(const DramConfig& config, std::int64_t origin_ps) {
  if (in_flight_count_ > 0) throw std::logic_error("DramTarget::reset with requests in flight");
  model_ = make_dram_model(config);
  store_ = DramBackingStore();
  capacity_bytes_ = config.capacity_bytes();
  origin_ps_ = origin_ps;
  in_flight_.clear();
}

tlm::tlm_response_status DramTarget::check(const tlm::tlm_generic_payload& payload) const {
  if (payload.get_byte_enable_ptr() != nullptr) return tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE;
  if (payload.get_streaming_width() < payload.get_data_length()) return tlm::TLM_BURST_ERROR_RESPONSE;
  const std::uint64_t address = payload.get_address();
  const std::uint64_t length = payload.get_data_length();
  if (address > capacity_bytes_ || length > capacity_bytes_ - address) return tlm::TLM_ADDRESS_ERROR_RESPONSE;
  return tlm::TLM_OK_RESPONSE;
}

void DramTarget::move_data(tlm::tlm_generic_payload& payload) {
  if (payload.is_read()) {
    store_.read(payload.get_address(), payload.get_data_ptr(), payload.get_data_length());
  } else if (payload.is_write()) {
    store_.write(payload.get_address(), payload.get_data_ptr(), payload.get_data_length());
  }
}

std::int64_t DramTarget::model_time_ps(const sc_core::sc_time& delay) const {
  return to_ps(sc_core::sc_time_stamp() + delay) - origin_ps_;
}

void DramTarget::b_transport(int, tlm::tlm_generic_payload& payload, sc_core::sc_time& delay) {
  payload.set_dmi_allowed(false);
  const tlm::tlm_response_status status = check(payload);
  payload.set_response_status(status);
  if (status != tlm::TLM_OK_RESPONSE || payload.get_command() == tlm::TLM_IGNORE_COMMAND) return;
  move_data(payload);
  const std::int64_t arrival_ps = model_time_ps(delay);
  const std::int64_t done_ps =
      model_->access(payload.get_address(), payload.get_data_length(), payload.is_write(), arrival_ps);
  delay += from_ps(done_ps - arrival_ps);
}

tlm::tlm_sync_enum DramTarget::nb_transport_fw(int initiator, tlm::tlm_generic_payload& payload, tlm::tlm_phase& phase,
                                               sc_core::sc_time& delay) {
  if (phase == tlm::END_RESP) return tlm::TLM_COMPLETED;
  if (phase != tlm::BEGIN_REQ) {
    payload.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
    return tlm::TLM_COMPLETED;
  }
  payload.set_dmi_allowed(false);
  const tlm::tlm_response_status status = check(payload);
  payload.set_response_status(status);
  if (status != tlm::TLM_OK_RESPONSE || payload.get_command() == tlm::TLM_IGNORE_COMMAND) {
    phase = tlm::BEGIN_RESP;
    return tlm::TLM_COMPLETED;
  }
  move_data(payload);
  const DramModel::RequestId id =
      model_->submit(payload.get_address(), payload.get_data_length(), payload.is_write(), model_time_ps(delay));
  if (id >= in_flight_.size()) in_flight_.resize(id + 1);
  in_flight_[id] = {&payload, initiator};
  ++in_flight_count_;
  if (responder_idle_) {
    responder_idle_ = false;
    request_arrived_.notify(sc_core::SC_ZERO_TIME);
  }
  phase = tlm::END_REQ;
  return tlm::TLM_UPDATED;
}

// Takes the model's completions in time order. A completion is final when
// next_completion() returns it, so the response can go out at once with its
// time as the annotated delay (temporal decoupling); the thread waits only to
// keep within a quantum of the kernel. The initiator may submit new requests
// from inside the backward call; they join the model before the next
// completion is asked for.
void DramTarget::respond_thread() {
  while (true) {
    if (in_flight_count_ == 0) {
      responder_idle_ = true;
      sc_core::wait(request_arrived_);
      continue;
    }
    const std::optional<DramModel::Completion> done = model_->next_completion();
    if (!done) throw std::logic_error("DramTarget: the model lost a request in flight");
    std::int64_t ahead_ps = done->done_ps + origin_ps_ - kernel_now_ps();
    if (ahead_ps > kQuantumPs) {
      sc_core::wait(from_ps(ahead_ps));
      ahead_ps = 0;
    }
    const InFlight request = in_flight_[done->id];
    --in_flight_count_;
    tlm::tlm_phase phase = tlm::BEGIN_RESP;
    sc_core::sc_time delay = from_ps(std::max<std::int64_t>(ahead_ps, 0));
    const tlm::tlm_sync_enum answer = socket[request.initiator]->nb_transport_bw(*request.payload, phase, delay);
    // TLM_ACCEPTED would have the initiator send END_RESP later; this target
    // needs nothing from it, so every answer ends the transaction here.
    (void)answer;
  }
}

unsigned int DramTarget::transport_dbg(int, tlm::tlm_generic_payload& payload) {
  if (check(payload) != tlm::TLM_OK_RESPONSE || payload.get_command() == tlm::TLM_IGNORE_COMMAND) return 0;
  move_data(payload);
  return payload.get_data_length();
}

}  // namespace npusim
