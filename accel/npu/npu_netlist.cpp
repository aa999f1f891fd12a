#include "accel/npu/npu_netlist.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <tuple>

#include "accel/formats/integer_math.h"
#include "accel/memory/kernel_time.h"

namespace npusim {
namespace {

constexpr int kThreads = 4;  // DMA loads, array, PPU, DMA stores

}  // namespace

std::int64_t sram_cycles(const FoldStep& step, const SramSet& sram) {
  std::int64_t cycles = 0;
  for (BufferKind kind : {BufferKind::ifmap, BufferKind::weight, BufferKind::ofmap}) {
    const int b = static_cast<int>(kind);
    const SramConfig& buffer = sram[kind];
    cycles = std::max({cycles, ceil_div(step.sram_read_bytes[b], buffer.read_bytes_per_cycle()),
                       ceil_div(step.sram_write_bytes[b], buffer.write_bytes_per_cycle())});
  }
  return cycles;
}

NpuNetlist& process_netlist() {
  static NpuNetlist netlist("npu");
  return netlist;
}

NpuNetlist::NpuNetlist(sc_core::sc_module_name name) : sc_core::sc_module(name) {
  SC_HAS_PROCESS(NpuNetlist);
  SC_THREAD(load_thread);
  SC_THREAD(array_thread);
  SC_THREAD(ppu_thread);
  SC_THREAD(store_thread);
}

// ---- time ------------------------------------------------------------------

std::int64_t NpuNetlist::now_ps() const { return kernel_now_ps(); }

// Edges are origin + llround(c * period): every time a unit acts on is one,
// so waits and busy times are whole cycles and add up exactly.
std::int64_t NpuNetlist::cycle_of(std::int64_t edge_ps) const {
  return std::llround(static_cast<double>(edge_ps - origin_ps_) / ps_per_cycle_);
}

std::int64_t NpuNetlist::edge_at_or_after(std::int64_t ps) const {
  const auto at = [this](std::int64_t c) { return origin_ps_ + std::llround(static_cast<double>(c) * ps_per_cycle_); };
  std::int64_t c = static_cast<std::int64_t>(std::floor(static_cast<double>(ps - origin_ps_) / ps_per_cycle_));
  while (at(c) < ps) ++c;
  while (c > 0 && at(c - 1) >= ps) --c;
  return at(c);
}

std::int64_t NpuNetlist::after_cycles(std::int64_t edge_ps, std::int64_t cycles) const {
  return origin_ps_ + std::llround(static_cast<double>(cycle_of(edge_ps) + cycles) * ps_per_cycle_);
}

void NpuNetlist::wait_until(std::int64_t ps) {
  const std::int64_t now = now_ps();
  if (ps <= now) return;
  ++timed_waits_;
  wait(sc_core::sc_time(static_cast<double>(ps - now), sc_core::SC_PS));
  --timed_waits_;
  ++progress_;
}

void NpuNetlist::wait_on(sc_core::sc_event& event, const char* who, const char* what) {
  waiting_[who] = what;
  wait(event);
  waiting_.erase(who);
  ++progress_;
}

// ---- program window ----------------------------------------------------------

// Layers are built when the first process reaches them and dropped when every
// process is past them, so a network never holds more than the layers in flight.
NpuNetlist::LiveLayer& NpuNetlist::live(std::size_t layer) {
  if (layer < first_live_) throw std::logic_error("npu netlist: layer " + std::to_string(layer) + " was released");
  while (first_live_ + live_.size() <= layer) {
    const std::size_t index = first_live_ + live_.size();
    LiveLayer next{source_(index), {}};
    const std::int64_t writeback_capacity = writeback_capacity_bytes(params_.sram);
    next.steps.resize(next.program.steps.size());
    for (std::size_t s = 0; s < next.program.steps.size(); ++s) {
      const FoldStep& step = next.program.steps[s];
      std::int64_t load_bytes[kBufferKinds] = {0, 0, 0}, store_bytes = 0;
      for (const Transfer& t : step.loads) load_bytes[static_cast<int>(t.buffer)] += t.bytes;
      for (const Transfer& t : step.stores) store_bytes += t.bytes;
      for (BufferKind kind : {BufferKind::ifmap, BufferKind::weight}) {
        const std::int64_t capacity = params_.sram[kind].capacity_bytes;
        if (load_bytes[static_cast<int>(kind)] > capacity) {
          throw std::runtime_error("layer " + next.program.name + ": step " + std::to_string(s) + " loads " +
                                   std::to_string(load_bytes[static_cast<int>(kind)]) + " bytes into the " +
                                   std::string(to_string(kind)) + " buffer, which holds " + std::to_string(capacity));
        }
      }
      if (store_bytes > writeback_capacity) {
        throw std::runtime_error("layer " + next.program.name + ": step " + std::to_string(s) + " writes back " +
                                 std::to_string(store_bytes) + " bytes, but the ofmap buffer holds " +
                                 std::to_string(writeback_capacity) + " bytes of results waiting for write-back");
      }
      LayerState& state = layers_[index];
      state.name = next.program.name;
      next.steps[s].loads_pending = static_cast<int>(step.loads.size());
      next.steps[s].stores_pending = static_cast<std::int64_t>(step.stores.size());
      state.stores_total += static_cast<std::int64_t>(step.stores.size());
      for (const Transfer& t : step.stores) {
        if (t.role != TransferRole::output) continue;
        const ByteRange r = t.range();
        OutputRange& entry = state.outputs[r.begin];
        entry.end = std::max(entry.end, r.end);
        ++entry.pending;
        state.longest_output = std::max(state.longest_output, entry.end - r.begin);
      }
    }
    live_.push_back(std::move(next));
  }
  return live_[layer - first_live_];
}

void NpuNetlist::release_finished_layers() {
  std::size_t oldest = std::min({array_cursor_, ppu_cursor_, load_cursor_[0], load_cursor_[1], load_cursor_[2]});
  while (!live_.empty() && first_live_ < oldest) {
    live_.pop_front();
    ++first_live_;
  }
}

// ---- run ---------------------------------------------------------------------

std::vector<LayerTiming> NpuNetlist::run(const NpuParams& params, MemoryPort& memory, std::size_t layer_count,
                                         const ProgramSource& source, TraceRecorder* trace,
                                         const LayerDone& on_layer_done) {
  if (broken_) throw std::logic_error("npu netlist: an earlier run failed; the model cannot run again in this process");
  params_ = params;
  memory_ = &memory;
  ps_per_cycle_ = 1.0e6 / params.clock_mhz;
  layer_count_ = layer_count;
  source_ = source;
  trace_ = trace;
  on_layer_done_ = on_layer_done;
  origin_ps_ = now_ps();
  live_.clear();
  first_live_ = 0;
  layers_.assign(layer_count, LayerState{});
  std::fill(std::begin(in_buffer_), std::end(in_buffer_), 0);
  std::fill(std::begin(load_cursor_), std::end(load_cursor_), 0);
  array_cursor_ = ppu_cursor_ = 0;
  ppu_finished_ = false;
  writeback_.clear();
  writeback_base_ = 0;
  writeback_held_bytes_ = 0;
  store_jobs_.clear();
  waiting_.clear();
  error_ = nullptr;
  threads_running_ = kThreads;
  timed_waits_ = 0;

  ++generation_;
  start_.notify(sc_core::SC_ZERO_TIME);
  // The kernel runs in slices; a slice in which no process moved and none
  // waits for a time is a deadlock (a pe-fidelity clock keeps the kernel
  // from ever running out of events, so starvation alone cannot tell).
  const sc_core::sc_time slice(1, sc_core::SC_MS);
  std::uint64_t seen = ~std::uint64_t{0};
  while (threads_running_ > 0 && !error_) {
    sc_core::sc_start(slice);
    if (threads_running_ == 0 || error_) break;
    if (progress_ == seen && timed_waits_ == 0) {
      std::string who;
      for (const auto& [thread, what] : waiting_) who += (who.empty() ? "" : "; ") + thread + " waits for " + what;
      broken_ = true;
      throw std::runtime_error("the accelerator model stopped making progress at " +
                               std::to_string(cycle_of(edge_at_or_after(now_ps()))) + " cycles: " + who);
    }
    seen = progress_;
  }
  if (error_) {
    broken_ = true;
    std::rethrow_exception(error_);
  }
  finish_timings(layer_count);
  std::vector<LayerTiming> timings;
  timings.reserve(layer_count);
  for (const LayerState& layer : layers_) timings.push_back(layer.timing);
  return timings;
}

void NpuNetlist::thread_body(const std::function<void()>& body) {
  // A run bumps the generation and notifies start_; a thread that the
  // kernel's initialization runs after the first run() was called sees the
  // new generation at once (a notification before initialization is lost).
  std::uint64_t seen_generation = 0;
  for (;;) {
    while (generation_ == seen_generation) wait(start_);
    seen_generation = generation_;
    try {
      body();
    } catch (...) {
      if (!error_) error_ = std::current_exception();
      sc_core::sc_pause();
    }
    if (--threads_running_ == 0) sc_core::sc_pause();
  }
}

// ---- DMA load queues -----------------------------------------------------------

// Moves `cursor` to the next load into `buffer` at or after it, looking no
// further than kDmaLookaheadLayers past the compute units (so the program
// window stays a few layers long). False when there is none yet.
bool NpuNetlist::find_next_load(BufferKind buffer, LoadCursor& cursor) {
  const int b = static_cast<int>(buffer);
  const std::size_t horizon = std::min(layer_count_, std::min(array_cursor_, ppu_cursor_) + kDmaLookaheadLayers + 1);
  while (cursor.layer < horizon) {
    load_cursor_[b] = cursor.layer;
    const LayerProgram& program = live(cursor.layer).program;
    for (; cursor.step < program.steps.size(); ++cursor.step, cursor.index = 0) {
      const auto& loads = program.steps[cursor.step].loads;
      for (; cursor.index < loads.size(); ++cursor.index) {
        if (loads[cursor.index].buffer == buffer) return cursor.found = true;
      }
    }
    ++cursor.layer;
    cursor.step = cursor.index = 0;
  }
  load_cursor_[b] = cursor.layer;
  return cursor.found = false;
}

// A load waits while its buffer holds the data of unfinished steps and the
// new bytes would not fit beside them (a ring: small folds are fetched many
// steps ahead, the next layer's first slices while this one computes); an
// ifmap load of a layer whose input another layer writes to DRAM waits for
// that write-back. Partial sums come back into space the plan reserved.
std::int64_t NpuNetlist::load_ready_ps(BufferKind buffer, const LoadCursor& cursor) {
  const int b = static_cast<int>(buffer);
  const LayerProgram& program = live(cursor.layer).program;
  const Transfer& t = program.steps[cursor.step].loads[cursor.index];
  std::int64_t ready = now_ps();
  if (buffer == BufferKind::ifmap) {
    for (std::size_t producer : program.dram_inputs_from) {
      const std::int64_t written = outputs_written_ps(producer, t.range());
      if (written < 0) return -1;
      ready = std::max(ready, written);
    }
  }
  if (t.after_step >= 0) {
    const StepState& spill = live(cursor.layer).steps.at(static_cast<std::size_t>(t.after_step));
    if (spill.stores_pending > 0) return -1;
    ready = std::max(ready, spill.stores_end_ps);
  }
  if (buffer != BufferKind::ofmap && in_buffer_[b] > 0 &&
      in_buffer_[b] + t.bytes > params_.sram[buffer].capacity_bytes) {
    return -1;
  }
  return ready;
}

// The producer's output stores overlapping `range`; a range that overlaps
// none of them (a layout the footprints do not describe) waits for all.
std::int64_t NpuNetlist::outputs_written_ps(std::size_t producer, const ByteRange& range) const {
  const LayerState& p = layers_[producer];
  const std::uint64_t from = range.begin > p.longest_output ? range.begin - p.longest_output : 0;
  std::int64_t written = 0;
  bool overlaps = false;
  for (auto it = p.outputs.lower_bound(from); it != p.outputs.end() && it->first < range.end; ++it) {
    if (it->second.end <= range.begin) continue;
    if (it->second.pending > 0) return -1;
    overlaps = true;
    written = std::max(written, it->second.latest_ps);
  }
  if (overlaps) return written;
  if (!p.stores_complete()) return -1;
  return std::max(p.stores_end_ps, p.results_ps);
}

void NpuNetlist::record_output_store(std::size_t l, const Transfer& t, std::int64_t end_ps) {
  OutputRange& entry = layers_[l].outputs.at(t.range().begin);
  entry.latest_ps = std::max(entry.latest_ps, end_ps);
  --entry.pending;
}

void NpuNetlist::load_queues() {
  const char* who = "dma load queues";
  constexpr BufferKind kinds[kBufferKinds] = {BufferKind::ifmap, BufferKind::weight, BufferKind::ofmap};
  LoadCursor cursors[kBufferKinds];
  for (;;) {
    release_finished_layers();
    int best = -1;
    bool any = false;
    std::int64_t next_time = -1;
    for (int b = 0; b < kBufferKinds; ++b) {
      LoadCursor& c = cursors[b];
      if (!c.found && !find_next_load(kinds[b], c)) continue;
      any = true;
      const std::int64_t ready = load_ready_ps(kinds[b], c);
      if (ready < 0) continue;
      if (ready > now_ps()) {
        next_time = next_time < 0 ? ready : std::min(next_time, ready);
        continue;
      }
      const LoadCursor& o = cursors[best < 0 ? b : best];
      if (best < 0 || std::tie(c.layer, c.step) < std::tie(o.layer, o.step)) best = b;
    }
    const bool exhausted = std::all_of(std::begin(load_cursor_), std::end(load_cursor_),
                                       [this](std::size_t l) { return l >= layer_count_; });
    if (!any && exhausted) break;
    if (best < 0) {
      // Nothing may go now: wait for space, a write-back, the compute units
      // moving on (the lookahead horizon), or the time a write-back completes.
      waiting_[who] = "buffer space or an input's write-back";
      if (next_time >= 0) {
        ++timed_waits_;
        wait(sc_core::sc_time(static_cast<double>(next_time - now_ps()), sc_core::SC_PS),
             step_done_ | stores_done_ | results_);
        --timed_waits_;
      } else {
        wait(step_done_ | stores_done_ | results_);
      }
      waiting_.erase(who);
      ++progress_;
      continue;
    }
    LoadCursor& c = cursors[best];
    LiveLayer& layer = live(c.layer);
    const Transfer& t = layer.program.steps[c.step].loads[c.index];
    const std::int64_t start = now_ps();
    const std::int64_t end = memory_->transfer(t.address, t.bytes, false, start);
    if (t.buffer != BufferKind::ofmap) in_buffer_[best] += t.bytes;
    StepState& state = layer.steps[c.step];
    if (end >= state.ready_ps) {
      state.ready_ps = end;
      state.late_buffer = t.buffer;
    }
    --state.loads_pending;
    layers_[c.layer].timing.dram_read_bytes += t.bytes;
    record_transfer(c.layer, t, start, end);
    ++progress_;
    loads_issued_.notify();
    ++c.index;
    c.found = false;
  }
  std::fill(std::begin(load_cursor_), std::end(load_cursor_), layer_count_);
}

// ---- array and PPU -------------------------------------------------------------

// Waits until the results a layer reads from the buffer are there and every
// earlier post-processing layer has finished (the array may not take
// write-back space a PPU layer ahead of it needs: that could deadlock); returns
// when they were ready.
std::int64_t NpuNetlist::wait_for_inputs(std::size_t l, const char* who) {
  const LayerProgram& program = live(l).program;
  std::int64_t ready = 0;
  const auto wait_results = [&](std::size_t producer) {
    while (layers_[producer].results_ps < 0) wait_on(results_, who, "an earlier layer's results");
    ready = std::max(ready, layers_[producer].results_ps);
  };
  for (std::size_t producer : program.chip_inputs_from) wait_results(producer);
  if (program.unit == ComputeUnit::array) {
    for (std::size_t p = l; p-- > 0;) {
      if (layers_[p].results_ps >= 0) continue;
      if (live_.empty() || p < first_live_ || live(p).program.unit == ComputeUnit::ppu) wait_results(p);
    }
  }
  return ready;
}

// Reserves write-back space for `bytes` of results: waits until the oldest
// pending results whose bytes must leave have a known completion, and returns
// when they will have left.
std::int64_t NpuNetlist::reserve_writeback(std::int64_t bytes, const char* who) {
  const std::int64_t capacity = writeback_capacity_bytes(params_.sram);
  for (;;) {
    while (!writeback_.empty() && writeback_.front().free_ps >= 0 && writeback_.front().free_ps <= now_ps()) {
      writeback_held_bytes_ -= writeback_.front().bytes;
      writeback_.pop_front();
      ++writeback_base_;
    }
    const std::int64_t must_free = writeback_held_bytes_ + bytes - capacity;
    std::int64_t freed = 0, free_at = 0;
    bool known = true;
    for (std::size_t i = 0; i < writeback_.size() && freed < must_free; ++i) {
      if (writeback_[i].free_ps < 0) {
        known = false;
        break;
      }
      freed += writeback_[i].bytes;
      free_at = std::max(free_at, writeback_[i].free_ps);
    }
    if (known) {
      writeback_.push_back(WritebackEntry{bytes, -1, -1});
      writeback_held_bytes_ += bytes;
      return free_at;
    }
    wait_on(writeback_freed_, who, "write-back space in the ofmap buffer");
  }
}

// One step on the unit free since `unit_free_ps`: waits for its loads, its
// write-back space and `earliest_ps`, starts on a clock edge, runs for the
// longer of its compute and its SRAM-port cycles. Returns when it ends.
std::int64_t NpuNetlist::run_step(std::size_t l, std::size_t s, std::int64_t unit_free_ps, std::int64_t earliest_ps,
                                  const char* who) {
  LiveLayer& layer = live(l);
  StepState& state = layer.steps[s];
  const FoldStep& step = layer.program.steps[s];
  while (state.loads_pending > 0) wait_on(loads_issued_, who, "a load to be issued");
  std::int64_t store_bytes = 0;
  for (const Transfer& t : step.stores) store_bytes += t.bytes;
  std::int64_t space_ps = 0;
  if (store_bytes > 0) {
    space_ps = reserve_writeback(store_bytes, who);
    state.writeback_entry = writeback_base_ + static_cast<std::int64_t>(writeback_.size()) - 1;
  }
  const std::int64_t start =
      edge_at_or_after(std::max({unit_free_ps, state.ready_ps, space_ps, earliest_ps, now_ps()}));
  if (start > unit_free_ps) {
    // The wait is blamed on what was ready last.
    StallCause cause = state.late_buffer == BufferKind::weight ? StallCause::weight : StallCause::ifmap;
    std::int64_t last = state.ready_ps;
    if (state.late_buffer == BufferKind::ofmap) cause = StallCause::ofmap;
    if (space_ps > last) {
      cause = StallCause::ofmap;
      last = space_ps;
    }
    // An earlier layer's results come out of the PPU (its epilogue or its own pass).
    if (earliest_ps > last) cause = StallCause::ppu;
    layers_[l].waits.push_back({unit_free_ps, start, cause});
  }
  wait_until(start);
  state.start_ps = start;
  const std::int64_t busy = std::max(step.compute_cycles, sram_cycles(step, params_.sram));
  const std::int64_t end = after_cycles(start, busy);
  layers_[l].timing.compute_cycles += step.compute_cycles;
  if (busy > step.compute_cycles) {
    layers_[l].waits.push_back({after_cycles(start, step.compute_cycles), end, StallCause::sram});
  }
  if (trace_ && trace_->accepting()) {
    trace_->record(ComputeEvent{layer.program.name, static_cast<std::int64_t>(s), layer.program.unit,
                                start - origin_ps_, after_cycles(start, step.compute_cycles) - origin_ps_});
  }
  wait_until(end);
  state.done_ps = end;
  for (const Transfer& t : step.loads) {
    if (t.buffer != BufferKind::ofmap) in_buffer_[static_cast<int>(t.buffer)] -= t.bytes;
  }
  step_done_.notify();
  return end;
}

void NpuNetlist::hand_to_store_queue(std::size_t l, std::size_t s, std::int64_t ready_ps) {
  LiveLayer& layer = live(l);
  const FoldStep& step = layer.program.steps[s];
  if (step.stores.empty()) return;
  const std::int64_t entry = layer.steps[s].writeback_entry;
  writeback_[static_cast<std::size_t>(entry - writeback_base_)].outstanding =
      static_cast<std::int64_t>(step.stores.size());
  for (const Transfer& t : step.stores) store_jobs_.push_back(StoreJob{l, s, entry, t, ready_ps});
  stores_queued_.notify();
}

void NpuNetlist::results_ready(std::size_t l, std::int64_t time_ps) {
  layers_[l].results_ps = time_ps;
  if (on_layer_done_) on_layer_done_(l, time_ps - origin_ps_);
  results_.notify();
  if (layers_[l].stores_complete()) stores_done_.notify();
}

void NpuNetlist::array_process() {
  const char* who = "array";
  std::int64_t free_ps = origin_ps_;
  for (std::size_t l = 0; l < layer_count_; ++l) {
    array_cursor_ = l;
    release_finished_layers();
    if (live(l).program.unit != ComputeUnit::array) continue;
    const std::int64_t inputs_ready = wait_for_inputs(l, who);
    const std::size_t steps = live(l).program.steps.size();
    for (std::size_t s = 0; s < steps; ++s) {
      free_ps = run_step(l, s, free_ps, s == 0 ? inputs_ready : 0, who);
    }
  }
  array_cursor_ = layer_count_;
}

// The PPU works in program order: an array layer's epilogue fold by fold as
// the array finishes them (outputs / elements_per_cycle cycles each, starting
// when the fold has drained), a post-processing layer step by step.
void NpuNetlist::ppu_process() {
  const char* who = "ppu";
  std::int64_t free_ps = origin_ps_;
  for (std::size_t l = 0; l < layer_count_; ++l) {
    ppu_cursor_ = l;
    release_finished_layers();
    const std::size_t steps = live(l).program.steps.size();
    if (live(l).program.unit == ComputeUnit::array) {
      std::int64_t last = 0, last_fold_end = 0;
      for (std::size_t s = 0; s < steps; ++s) {
        const FoldStep& step = live(l).program.steps[s];
        const bool last_step = s + 1 == steps;
        if (step.output_elements == 0 && step.stores.empty() && !last_step) continue;
        while (live(l).steps[s].done_ps < 0) wait_on(step_done_, who, "the array's next fold");
        const StepState& fold = live(l).steps[s];
        last_fold_end = fold.done_ps;
        std::int64_t ready = fold.done_ps;
        if (step.output_elements > 0) {
          // The fold's outputs leave the array as it runs; the PPU takes them
          // as they come, at its own rate, and the last ones one cycle after
          // the fold ends.
          const std::int64_t begin = edge_at_or_after(std::max(free_ps, fold.start_ps));
          free_ps = std::max(after_cycles(fold.done_ps, 1),
                             after_cycles(begin, ceil_div(step.output_elements, params_.ppu_elements_per_cycle)));
          wait_until(free_ps);
          ready = free_ps;
        }
        last = std::max(last, ready);
        hand_to_store_queue(l, s, ready);
      }
      const std::int64_t results = steps == 0 ? edge_at_or_after(now_ps()) : last;
      // The array is done with the layer; what remains is the PPU's.
      if (results > last_fold_end && steps > 0) layers_[l].waits.push_back({last_fold_end, results, StallCause::ppu});
      results_ready(l, results);
      continue;
    }
    const std::int64_t inputs_ready = wait_for_inputs(l, who);
    for (std::size_t s = 0; s < steps; ++s) {
      free_ps = run_step(l, s, free_ps, s == 0 ? inputs_ready : 0, who);
      hand_to_store_queue(l, s, free_ps);
    }
    results_ready(l, std::max(free_ps, inputs_ready));
  }
  ppu_cursor_ = layer_count_;
  ppu_finished_ = true;
  stores_queued_.notify();
}

// ---- DMA store queue -------------------------------------------------------------

void NpuNetlist::store_queue() {
  const char* who = "dma store queue";
  for (;;) {
    while (store_jobs_.empty() && !ppu_finished_) wait_on(stores_queued_, who, "results to write back");
    if (store_jobs_.empty()) break;
    const StoreJob job = store_jobs_.front();
    store_jobs_.pop_front();
    wait_until(job.ready_ps);
    const std::int64_t start = now_ps();
    const std::int64_t end = memory_->transfer(job.transfer.address, job.transfer.bytes, true, start);
    record_transfer(job.layer, job.transfer, start, end);
    LayerState& layer = layers_[job.layer];
    layer.timing.dram_write_bytes += job.transfer.bytes;
    layer.stores_end_ps = std::max(layer.stores_end_ps, end);
    ++layer.stores_done;
    if (job.transfer.role == TransferRole::output) record_output_store(job.layer, job.transfer, end);
    if (job.layer >= first_live_) {  // a partial-sum load of the layer may wait for this step's stores
      StepState& step = live(job.layer).steps[job.step];
      step.stores_end_ps = std::max(step.stores_end_ps, end);
      --step.stores_pending;
    }
    WritebackEntry& entry = writeback_[static_cast<std::size_t>(job.entry - writeback_base_)];
    entry.latest_ps = std::max(entry.latest_ps, end);
    if (--entry.outstanding == 0) {
      entry.free_ps = entry.latest_ps;
      writeback_freed_.notify();
    }
    stores_done_.notify();  // loads waiting for these bytes may go
    ++progress_;
  }
}

void NpuNetlist::record_transfer(std::size_t l, const Transfer& t, std::int64_t start, std::int64_t end) {
  if (!trace_ || !trace_->accepting()) return;
  const std::string buffer(to_string(t.buffer));
  trace_->record(TransferEvent{t.is_write ? buffer : "dram", t.is_write ? "dram" : buffer, buffer, layers_[l].name,
                               t.bytes, start - origin_ps_, end - origin_ps_, t.is_write});
}

// Layer spans tile the run: each ends at its last result (never before the
// previous one's end), the last one when its last byte is written back; a
// unit's waits count in the span they fall in.
void NpuNetlist::finish_timings(std::size_t layer_count) {
  std::int64_t written = origin_ps_;
  for (const LayerState& layer : layers_) written = std::max(written, layer.stores_end_ps);
  std::int64_t previous = origin_ps_;
  for (std::size_t l = 0; l < layer_count; ++l) {
    LayerState& layer = layers_[l];
    std::int64_t end = std::max(previous, edge_at_or_after(layer.results_ps));
    LayerTiming& t = layer.timing;
    if (l + 1 == layer_count) {
      const std::int64_t last_byte = std::max(end, edge_at_or_after(written));
      if (last_byte > end) layer.waits.push_back({end, last_byte, StallCause::ofmap});
      end = last_byte;
    }
    t.start_ps = previous - origin_ps_;
    t.end_ps = end - origin_ps_;
    t.cycles = cycle_of(end) - cycle_of(previous);
    for (const WaitInterval& w : layer.waits) {
      const std::int64_t from = std::max(w.from_ps, previous), to = std::min(w.to_ps, end);
      if (to <= from) continue;
      const std::int64_t cycles = cycle_of(to) - cycle_of(from);
      switch (w.cause) {
        case StallCause::ifmap: t.stalls.ifmap += cycles; break;
        case StallCause::weight: t.stalls.weight += cycles; break;
        case StallCause::ofmap: t.stalls.ofmap += cycles; break;
        case StallCause::sram: t.stalls.sram += cycles; break;
        case StallCause::ppu: t.stalls.ppu += cycles; break;
      }
      if (trace_ && trace_->accepting())
        trace_->record(StallEvent{layer.name, w.cause, from - origin_ps_, to - origin_ps_});
    }
    layer.waits.clear();
    layer.waits.shrink_to_fit();
    previous = end;
  }
}

}  // namespace npusim
