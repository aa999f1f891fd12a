#include "accel/memory/dma_engine.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "accel/memory/kernel_time.h"

namespace npusim {

DmaEngine::DmaEngine(sc_core::sc_module_name name, std::int64_t burst_bytes, double peak_gbps)
    : sc_core::sc_module(name), socket("socket") {
  configure(burst_bytes, peak_gbps);
}

void DmaEngine::configure(std::int64_t burst_bytes, double peak_gbps) {
  if (burst_bytes < 1) throw std::invalid_argument("DMA burst must be at least one byte");
  burst_bytes_ = burst_bytes;
  peak_gbps_ = peak_gbps;
  buffer_.assign(static_cast<std::size_t>(burst_bytes), 0);
  transactions_ = 0;
}

std::int64_t DmaEngine::transfer(std::uint64_t address, std::int64_t bytes, bool is_write, std::int64_t issue_ps) {
  const std::int64_t now_ps = kernel_now_ps();
  const std::int64_t offset_ps = std::max<std::int64_t>(0, issue_ps - now_ps);
  std::int64_t done_ps = issue_ps;
  tlm::tlm_generic_payload payload;
  for (std::int64_t moved = 0; moved < bytes; moved += burst_bytes_) {
    const auto length = static_cast<unsigned int>(std::min(burst_bytes_, bytes - moved));
    payload.set_command(is_write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
    payload.set_address(address + static_cast<std::uint64_t>(moved));
    payload.set_data_ptr(buffer_.data());
    payload.set_data_length(length);
    payload.set_streaming_width(length);
    payload.set_byte_enable_ptr(nullptr);
    payload.set_dmi_allowed(false);
    payload.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    sc_core::sc_time delay = from_ps(offset_ps);
    socket->b_transport(payload, delay);
    if (payload.is_response_error()) {
      throw std::runtime_error("DMA " + std::string(is_write ? "write" : "read") + " of " + std::to_string(length) +
                               " bytes at address " + std::to_string(address + moved) +
                               " failed: " + payload.get_response_string());
    }
    ++transactions_;
    done_ps = std::max(done_ps, now_ps + to_ps(delay));
  }
  return done_ps;
}

}  // namespace npusim
