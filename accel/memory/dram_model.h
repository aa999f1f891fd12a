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
//
// Non-blocking use (submit + next_completion) keeps many requests in flight,
// as a closed-loop traffic generator or an AT initiator does. The timing model
// reorders them as its scheduler does; a model without a scheduler (the ideal
// memory) serves each through access() as it is submitted, in call order.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <queue>
#include <utility>
#include <vector>

#include "accel/memory/data_bus_windows.h"
#include "accel/memory/dram_config.h"
#include "accel/memory/dram_stats.h"

namespace npusim {

class DramModel {
 public:
  using RequestId = std::uint32_t;
  struct Completion {
    RequestId id = 0;
    std::int64_t done_ps = 0;
  };

  virtual ~DramModel() = default;

  // `bytes` starting at `address`; bytes == 0 completes at arrival.
  virtual std::int64_t access(std::uint64_t address, std::uint64_t bytes, bool is_write, std::int64_t arrival_ps) = 0;

  // A 2-D transfer: `rows` pieces of `row_bytes`, `stride_bytes` apart, all
  // arriving together (a tile of a larger tensor). Completes with its last piece.
  std::int64_t access_strided(std::uint64_t address, std::uint64_t row_bytes, std::uint64_t rows,
                              std::uint64_t stride_bytes, bool is_write, std::int64_t arrival_ps);

  // The request joins the model at `arrival_ps`; its completion is reported by
  // next_completion(). Ids are reused once their completion was reported.
  virtual RequestId submit(std::uint64_t address, std::uint64_t bytes, bool is_write, std::int64_t arrival_ps);
  // The earliest completion that no request submitted from now on, arriving at
  // or after it, could precede; nullopt when nothing is in flight.
  virtual std::optional<Completion> next_completion();

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
  // The default submit(): completions known at submission, earliest first.
  using Done = std::pair<std::int64_t, RequestId>;
  std::priority_queue<Done, std::vector<Done>, std::greater<>> done_;
  RequestId next_id_ = 0;
  std::vector<RequestId> free_ids_;
};

// The model `config.kind` names. Throws std::invalid_argument with validate()'s
// message when the config is not usable.
std::unique_ptr<DramModel> make_dram_model(const DramConfig& config);

}  // namespace npusim
