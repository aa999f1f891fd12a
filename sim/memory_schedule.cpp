#include "sim/memory_schedule.h"

#include <algorithm>
#include <cmath>

namespace npusim {

MemorySchedule::MemorySchedule(MemoryPort& port, double clock_mhz, std::int64_t window_ps)
    : port_(port), ps_per_cycle_(1.0e6 / clock_mhz), window_ps_(std::max<std::int64_t>(1, window_ps)) {}

std::int64_t MemorySchedule::cycles_to_ps(std::int64_t cycles) const {
  return std::llround(static_cast<double>(cycles) * ps_per_cycle_);
}

std::int64_t MemorySchedule::ps_to_cycles(std::int64_t ps) const {
  return std::llround(static_cast<double>(ps) / ps_per_cycle_);
}

// Issues transfers back to back on the DMA engine; returns when the last one
// completes and which buffer it was for.
std::int64_t MemorySchedule::issue(const std::vector<Transfer>& transfers, std::int64_t earliest_ps,
                                   BufferKind* last_buffer, TimedSpan& span) {
  std::int64_t done = earliest_ps;
  for (const Transfer& t : transfers) {
    const std::int64_t start = std::max(dma_free_ps_, earliest_ps);
    const std::int64_t end = port_.transfer(t.address, t.bytes, t.is_write, start);
    dma_free_ps_ = end;
    if (end >= done) {
      done = end;
      if (last_buffer) *last_buffer = t.buffer;
    }
    (t.is_write ? span.dram_write_bytes : span.dram_read_bytes) += t.bytes;
    window_bytes_[end / window_ps_] += t.bytes;
  }
  return done;
}

TimedSpan MemorySchedule::run_steps(const std::vector<FoldStep>& steps) {
  TimedSpan span;
  span.start_ps = now_ps_;
  window_bytes_.clear();
  const std::size_t n = steps.size();
  std::vector<std::int64_t> ready(n, now_ps_), end(n, now_ps_), stored(n, now_ps_);
  std::vector<BufferKind> late_operand(n, BufferKind::ifmap);
  if (n > 0) ready[0] = issue(steps[0].loads, now_ps_, &late_operand[0], span);
  std::int64_t array_free = now_ps_;
  for (std::size_t i = 0; i < n; ++i) {
    // The output half step i writes was last used by step i-2's results.
    const std::int64_t output_half_free = i >= 2 ? stored[i - 2] : now_ps_;
    const std::int64_t start = std::max({array_free, ready[i], output_half_free});
    if (start > array_free) {
      const std::int64_t stall = ps_to_cycles(start - array_free);
      if (output_half_free >= ready[i]) {
        span.stalls.ofmap += stall;
      } else if (late_operand[i] == BufferKind::weight) {
        span.stalls.weight += stall;
      } else {
        span.stalls.ifmap += stall;
      }
    }
    end[i] = start + cycles_to_ps(steps[i].compute_cycles);
    span.compute_cycles += steps[i].compute_cycles;
    array_free = end[i];
    // Step i+1 loads into the halves step i-1 used, free once it has finished.
    if (i + 1 < n) {
      const std::int64_t half_free = i >= 1 ? end[i - 1] : now_ps_;
      ready[i + 1] = issue(steps[i + 1].loads, half_free, &late_operand[i + 1], span);
    }
    stored[i] = issue(steps[i].stores, end[i], nullptr, span);
  }
  const std::int64_t finish = n > 0 ? std::max(array_free, stored[n - 1]) : now_ps_;
  // The layer ends when its last result is in DRAM; the write-back tail is an
  // ofmap stall of the layer.
  if (finish > array_free) span.stalls.ofmap += ps_to_cycles(finish - array_free);
  now_ps_ = finish;
  span.end_ps = finish;
  for (const auto& [window, bytes] : window_bytes_) span.peak_window_bytes = std::max(span.peak_window_bytes, bytes);
  return span;
}

}  // namespace npusim
