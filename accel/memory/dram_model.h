// The interface the DMA's memory side sees: when does a transfer finish. Both
// the DRAM timing model and the ideal memory implement it; the TLM target
// (accel/memory/dram_target.h) wraps whichever the config names.
//
// Contract:
//  - Clock-free: every call takes its time as an argument (picoseconds) and the
//    model keeps no notion of "now" beyond what earlier calls reserved.
//  - Requests are served in call order (FCFS per channel). A call whose arrival
//    is earlier than an earlier call's still queues behind it.
//  - The return value is the time the last byte has crossed the data bus
//    (reads: arrived at the controller; writes: left it), never before arrival.
#pragma once

#include <cstdint>
#include <memory>

#include "accel/memory/data_bus_windows.h"
#include "accel/memory/dram_config.h"
#include "accel/memory/dram_stats.h"

namespace npusim {

class DramModel {
 public:
  virtual ~DramModel() = default;

  // `bytes` starting at `address`; bytes == 0 completes at arrival.
  virtual std::int64_t access(std::uint64_t address, std::uint64_t bytes, bool is_write, std::int64_t arrival_ps) = 0;

  // A 2-D transfer: `rows` pieces of `row_bytes`, `stride_bytes` apart, all
  // arriving together (a tile of a larger tensor). Completes with its last piece.
  std::int64_t access_strided(std::uint64_t address, std::uint64_t row_bytes, std::uint64_t rows,
                              std::uint64_t stride_bytes, bool is_write, std::int64_t arrival_ps);

  virtual const DramStats& stats() const = 0;
  virtual const DramConfig& config() const = 0;

  // Reports every burst's data-bus time into `windows` from now on (nullptr:
  // stop), for the peak-bandwidth figure.
  void observe_data_bus(DataBusWindows* windows) { data_bus_ = windows; }

 protected:
  void record_data(std::int64_t start_ps, std::int64_t end_ps, std::int64_t bytes) {
    if (data_bus_ != nullptr) data_bus_->add(start_ps, end_ps, bytes);
  }

 private:
  DataBusWindows* data_bus_ = nullptr;
};

// The model `config.kind` names. Throws std::invalid_argument with validate()'s
// message when the config is not usable.
std::unique_ptr<DramModel> make_dram_model(const DramConfig& config);

}  // namespace npusim
