#include "sim/run/memory_schedule.h"

#include <algorithm>
#include <array>
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

// The array is clocked: a fold starts on a clock edge, so data that arrives
// between edges is used at the next one. Edges are cycles_to_ps(c), and every
// time the array acts on is one, so stalls and fold times are whole cycles and
// add up to the layer's cycles exactly.
std::int64_t MemorySchedule::next_edge_cycle(std::int64_t ps) const {
  std::int64_t c = static_cast<std::int64_t>(std::floor(static_cast<double>(ps) / ps_per_cycle_));
  while (cycles_to_ps(c) < ps) ++c;
  while (c > 0 && cycles_to_ps(c - 1) >= ps) --c;
  return c;
}

// A transfer's bytes count in each peak window in proportion to the part of
// [start, end) that lies in it, so no window shows more than the memory moved.
void MemorySchedule::spread_over_windows(std::int64_t start, std::int64_t end, std::int64_t bytes) {
  if (end <= start) {
    window_bytes_[start / window_ps_] += static_cast<double>(bytes);
    return;
  }
  const double per_ps = static_cast<double>(bytes) / static_cast<double>(end - start);
  for (std::int64_t w = start / window_ps_; w * window_ps_ < end; ++w) {
    const std::int64_t lo = std::max(start, w * window_ps_);
    const std::int64_t hi = std::min(end, (w + 1) * window_ps_);
    window_bytes_[w] += per_ps * static_cast<double>(hi - lo);
  }
}

// Issues transfers in order on the DMA engine; returns when the last one
// completes and which buffer it was for.
std::int64_t MemorySchedule::issue(const std::vector<Transfer>& transfers, std::int64_t earliest_ps,
                                   BufferKind* last_buffer, TimedSpan& span) {
  std::int64_t done = earliest_ps;
  for (const Transfer& t : transfers) {
    // The DMA keeps many requests in flight: it hands the next one to the
    // memory as soon as the previous one is issued, and the memory's own queues
    // and data bus decide when each completes.
    const std::int64_t start = std::max(dma_issue_ps_, earliest_ps);
    const std::int64_t end = port_.transfer(t.address, t.bytes, t.is_write, start);
    dma_issue_ps_ = start;
    if (end >= done) {
      done = end;
      if (last_buffer) *last_buffer = t.buffer;
    }
    (t.is_write ? span.dram_write_bytes : span.dram_read_bytes) += t.bytes;
    if (tracing()) {
      const std::string buffer(to_string(t.buffer));
      trace_->record(TransferEvent{t.is_write ? buffer : "dram", t.is_write ? "dram" : buffer, buffer,
                                   trace_layer_, t.bytes, start, end, t.is_write});
    }
    spread_over_windows(start, end, t.bytes);
  }
  return done;
}

// Cycles the buffers need to move a fold's SRAM traffic through their ports.
std::int64_t sram_cycles(const FoldStep& step, const SramSet& sram) {
  std::int64_t cycles = 0;
  for (BufferKind kind : {BufferKind::ifmap, BufferKind::weight, BufferKind::ofmap}) {
    const int b = static_cast<int>(kind);
    const SramConfig& buffer = sram[kind];
    const auto ceil_div = [](std::int64_t a, std::int64_t d) { return (a + d - 1) / d; };
    cycles = std::max({cycles, ceil_div(step.sram_read_bytes[b], buffer.read_bytes_per_cycle()),
                       ceil_div(step.sram_write_bytes[b], buffer.write_bytes_per_cycle())});
  }
  return cycles;
}

namespace {

// Cumulative bytes per buffer, index j+1 = through step j: loads into the
// ifmap and weight buffers, results through the ofmap buffer.
std::vector<std::array<std::int64_t, kBufferKinds>> cumulative_bytes(const std::vector<FoldStep>& steps) {
  std::vector<std::array<std::int64_t, kBufferKinds>> cumulative(steps.size() + 1, {0, 0, 0});
  for (std::size_t j = 0; j < steps.size(); ++j) {
    cumulative[j + 1] = cumulative[j];
    for (const Transfer& t : steps[j].loads) cumulative[j + 1][static_cast<int>(t.buffer)] += t.bytes;
    for (const Transfer& t : steps[j].stores) cumulative[j + 1][static_cast<int>(t.buffer)] += t.bytes;
  }
  return cumulative;
}

}  // namespace

// The array waited from `array_free` to `start`: on the output write-back when
// that freed space last, else on the operand that arrived last.
void MemorySchedule::count_stall(std::int64_t array_free, std::int64_t start, std::int64_t output_free,
                                 std::int64_t operands_ready, BufferKind late_operand, TimedSpan& span) {
  if (start <= array_free) return;
  const std::int64_t stall = ps_to_cycles(start - array_free);
  StallCause cause = StallCause::ifmap;
  if (output_free >= operands_ready) {
    span.stalls.ofmap += stall;
    cause = StallCause::ofmap;
  } else if (late_operand == BufferKind::weight) {
    span.stalls.weight += stall;
    cause = StallCause::weight;
  } else {
    span.stalls.ifmap += stall;
  }
  if (tracing()) trace_->record(StallEvent{trace_layer_, cause, array_free, start});
}

// A fold's compute, its SRAM-port stretch and its buffer traffic, as trace events.
void MemorySchedule::trace_fold(const FoldStep& step, std::size_t index, std::int64_t start, std::int64_t end) {
  if (!tracing()) return;
  const std::int64_t compute_end = cycles_to_ps(next_edge_cycle(start) + step.compute_cycles);
  trace_->record(ComputeEvent{trace_layer_, static_cast<std::int64_t>(index), trace_unit_, start, compute_end});
  if (compute_end < end) trace_->record(StallEvent{trace_layer_, StallCause::sram, compute_end, end});
  for (BufferKind kind : {BufferKind::ifmap, BufferKind::weight, BufferKind::ofmap}) {
    const int b = static_cast<int>(kind);
    if (step.sram_read_bytes[b] + step.sram_write_bytes[b] == 0) continue;
    trace_->record_buffer_access(std::string(to_string(kind)), start, end, step.sram_read_bytes[b],
                                 step.sram_write_bytes[b]);
  }
}

TimedSpan MemorySchedule::run_steps(const std::vector<FoldStep>& steps, const SramSet& sram) {
  TimedSpan span;
  span.start_ps = now_ps_;
  window_bytes_.clear();
  if (data_bus_ != nullptr) data_bus_->clear();
  const std::size_t n = steps.size();
  const auto cumulative = cumulative_bytes(steps);
  const std::array<std::int64_t, kBufferKinds> capacity{
      sram.ifmap.capacity_bytes, sram.weight.capacity_bytes, sram.ofmap.capacity_bytes};
  // end_at(p) / stored_at(p): when step p-1 finished computing / writing back;
  // p = 0 is the start of the span.
  std::vector<std::int64_t> end_at(n + 1, now_ps_), stored_at(n + 1, now_ps_), ready(n, now_ps_);
  std::vector<BufferKind> late_operand(n, BufferKind::ifmap);

  // The buffers are rings: the DMA prefetches a step's loads as soon as the
  // data of every unfinished step up to it fits, so small folds are fetched
  // many steps ahead and a fold as large as half the buffer is double buffered.
  std::size_t next_load = 0;
  std::array<std::size_t, kBufferKinds> oldest_needed{0, 0, 0};
  const auto prefetch = [&](std::size_t finished) {  // steps [0, finished) are done
    for (; next_load < n; ++next_load) {
      std::int64_t earliest = now_ps_;
      for (int b = 0; b < 2; ++b) {
        std::size_t& p = oldest_needed[b];
        while (cumulative[next_load + 1][b] - cumulative[p][b] > capacity[b]) ++p;
        if (p > finished) return;  // wait until step p-1 has finished
        earliest = std::max(earliest, end_at[p]);
      }
      ready[next_load] = issue(steps[next_load].loads, earliest, &late_operand[next_load], span);
    }
  };
  prefetch(0);

  std::int64_t array_free = now_ps_;
  std::size_t oldest_result = 0;
  constexpr int ofmap = static_cast<int>(BufferKind::ofmap);
  for (std::size_t i = 0; i < n; ++i) {
    // Results of the steps whose bytes no longer fit beside this one's must
    // have been written back.
    while (cumulative[i + 1][ofmap] - cumulative[oldest_result][ofmap] > capacity[ofmap]) ++oldest_result;
    const std::int64_t output_free = stored_at[oldest_result];
    const std::int64_t start = cycles_to_ps(next_edge_cycle(std::max({array_free, ready[i], output_free})));
    count_stall(array_free, start, output_free, ready[i], late_operand[i], span);
    const std::int64_t busy_cycles = std::max(steps[i].compute_cycles, sram_cycles(steps[i], sram));
    span.stalls.sram += busy_cycles - steps[i].compute_cycles;
    array_free = cycles_to_ps(next_edge_cycle(start) + busy_cycles);
    span.compute_cycles += steps[i].compute_cycles;
    trace_fold(steps[i], i, start, array_free);
    end_at[i + 1] = array_free;
    stored_at[i + 1] = std::max(stored_at[i], issue(steps[i].stores, array_free, nullptr, span));
    prefetch(i + 1);
  }
  const std::int64_t finish = cycles_to_ps(next_edge_cycle(std::max(array_free, stored_at[n])));
  // The layer ends when its last result is in DRAM; the write-back tail is an
  // ofmap stall of the layer.
  if (finish > array_free) {
    span.stalls.ofmap += ps_to_cycles(finish - array_free);
    if (tracing()) trace_->record(StallEvent{trace_layer_, StallCause::ofmap, array_free, finish});
  }
  now_ps_ = finish;
  span.end_ps = finish;
  double peak = 0.0;
  for (const auto& [window, bytes] : window_bytes_) peak = std::max(peak, bytes);
  if (data_bus_ != nullptr) peak = data_bus_->peak_window_bytes();
  span.peak_window_bytes = std::llround(peak);
  return span;
}

}  // namespace npusim
