// Times a layer's fold steps against off-chip memory: one DMA engine issues the
// loads and write-backs in program order through a MemoryPort (many requests in
// flight; the memory's queues and bus set their completion times), double buffering lets
// the next fold's loads overlap the current fold's compute, and the array waits
// when its data is late. Stalls are attributed to the operand that arrived last
// (ifmap or weight) or to the write-back that had not freed the output half.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "accel/memory/data_bus_windows.h"
#include "accel/memory/memory_port.h"
#include "sim/mapper/memory_plan.h"
#include "traces/trace_recorder.h"

namespace npusim {

// Cycles the array waited, by cause: an operand arriving late from DRAM
// (ifmap, weight), an output write-back not yet done (ofmap), or a fold moving
// more buffer bytes per cycle than the SRAM banks and ports carry (sram).
struct StallCycles {
  std::int64_t ifmap = 0, weight = 0, ofmap = 0, sram = 0;
  std::int64_t total() const { return ifmap + weight + ofmap + sram; }
};

struct TimedSpan {
  std::int64_t start_ps = 0, end_ps = 0;
  std::int64_t compute_cycles = 0;  // array (or PPU) cycles without stalls
  StallCycles stalls;
  std::int64_t dram_read_bytes = 0, dram_write_bytes = 0;
  std::int64_t peak_window_bytes = 0;  // most DRAM bytes completed in one window
};

// Cycles a fold's buffer traffic takes through the SRAM banks and ports.
std::int64_t sram_cycles(const FoldStep& step, const SramSet& sram);

class MemorySchedule {
 public:
  // `window_ps`: the window of the peak-bandwidth figure.
  MemorySchedule(MemoryPort& port, double clock_mhz, std::int64_t window_ps = 1'000'000);

  // Runs the steps from the current time; the next call continues after it.
  // The buffers' capacities bound how far ahead the DMA may prefetch.
  TimedSpan run_steps(const std::vector<FoldStep>& steps, const SramSet& sram);

  std::int64_t now_ps() const { return now_ps_; }
  std::int64_t cycles_to_ps(std::int64_t cycles) const;
  std::int64_t ps_to_cycles(std::int64_t ps) const;
  // The first array clock edge at or after `ps`, as a cycle index.
  std::int64_t next_edge_cycle(std::int64_t ps) const;
  std::int64_t window_ps() const { return window_ps_; }

  // Takes the peak-window figure from the memory's own data-bus record
  // (nullptr: from the transfers' issue-to-completion spans, for a memory
  // that reports none).
  void measure_data_bus(DataBusWindows* windows) { data_bus_ = windows; }

  // Records the next spans' folds, stalls, DMA transfers and buffer traffic
  // into `trace` (nullable: no tracing) under this layer name and unit.
  void trace_into(TraceRecorder* trace, std::string layer, ComputeUnit unit) {
    trace_ = trace;
    trace_layer_ = std::move(layer);
    trace_unit_ = unit;
  }

 private:
  std::int64_t issue(const std::vector<Transfer>& transfers, std::int64_t earliest_ps,
                     BufferKind* last_buffer, TimedSpan& span);

  void count_stall(std::int64_t array_free, std::int64_t start, std::int64_t output_free,
                   std::int64_t operands_ready, BufferKind late_operand, TimedSpan& span);
  void trace_fold(const FoldStep& step, std::size_t index, std::int64_t start, std::int64_t end);

  void spread_over_windows(std::int64_t start, std::int64_t end, std::int64_t bytes);

  bool tracing() const { return trace_ != nullptr && trace_->accepting(); }

  MemoryPort& port_;
  TraceRecorder* trace_ = nullptr;
  std::string trace_layer_;
  ComputeUnit trace_unit_ = ComputeUnit::array;
  double ps_per_cycle_;
  std::int64_t window_ps_;
  std::int64_t now_ps_ = 0;       // the array is free from here
  std::int64_t dma_issue_ps_ = 0;  // when the DMA issued its last request
  std::map<std::int64_t, double> window_bytes_;
  DataBusWindows* data_bus_ = nullptr;
};

}  // namespace npusim
