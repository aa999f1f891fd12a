#include "accel/memory/dram_target.h"

#include <cmath>

namespace npusim {
namespace {

std::int64_t to_ps(const sc_core::sc_time& t) { return static_cast<std::int64_t>(std::llround(t.to_seconds() * 1e12)); }

}  // namespace

DramTarget::DramTarget(sc_core::sc_module_name name, const DramConfig& config)
    : sc_core::sc_module(name), socket("socket") {
  reset(config, 0);
  socket.register_b_transport(this, &DramTarget::b_transport);
  socket.register_transport_dbg(this, &DramTarget::transport_dbg);
}

void DramTarget::reset(const DramConfig& config, std::int64_t origin_ps) {
  model_ = make_dram_model(config);
  store_ = DramBackingStore();
  capacity_bytes_ = config.capacity_bytes();
  origin_ps_ = origin_ps;
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

void DramTarget::b_transport(tlm::tlm_generic_payload& payload, sc_core::sc_time& delay) {
  payload.set_dmi_allowed(false);
  const tlm::tlm_response_status status = check(payload);
  payload.set_response_status(status);
  if (status != tlm::TLM_OK_RESPONSE || payload.get_command() == tlm::TLM_IGNORE_COMMAND) return;
  move_data(payload);
  const std::int64_t arrival_ps = to_ps(sc_core::sc_time_stamp() + delay) - origin_ps_;
  const std::int64_t done_ps =
      model_->access(payload.get_address(), payload.get_data_length(), payload.is_write(), arrival_ps);
  delay += sc_core::sc_time(static_cast<double>(done_ps - arrival_ps), sc_core::SC_PS);
}

unsigned int DramTarget::transport_dbg(tlm::tlm_generic_payload& payload) {
  if (check(payload) != tlm::TLM_OK_RESPONSE || payload.get_command() == tlm::TLM_IGNORE_COMMAND) return 0;
  move_data(payload);
  return payload.get_data_length();
}

}  // namespace npusim
