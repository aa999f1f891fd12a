// The accelerator's concurrent processes, one SystemC thread each, running a
// whole network's programs (accel/npu/npu_program.h) in one simulation:
//  - three DMA load queues (ifmap, weight, ofmap for partial sums coming
//    back), each in program order, each blocked while its buffer is full, the
//    ifmap queue also until a layer's DRAM inputs have been written back;
//  - the array, one fold at a time, waiting for the fold's operands, for
//    write-back space in the ofmap buffer and, at a layer's first fold, for
//    the results it reads from the buffer;
//  - the PPU: the epilogue of each fold's finished outputs as the array
//    drains them (elements_per_cycle), and the post-processing layers;
//  - the DMA store queue, writing results back in the order they are ready.
// Every request goes through the memory port (the DMA engine: a TLM-2.0
// initiator bound to the DRAM target, or any TLM-2.0 memory). Nothing waits
// for a layer to finish unless the data requires it: layer L+1's weights
// stream in while layer L computes, write-backs overlap the next loads.
//
// One module per process (SystemC allows no new module once the kernel has
// run); run() resets it for each network, and times are relative to the start
// of that run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <systemc>

#include "accel/memory/memory_port.h"
#include "accel/npu/npu_program.h"
#include "accel/npu/npu_timing.h"
#include "traces/trace_recorder.h"

namespace npusim {

class NpuNetlist : public sc_core::sc_module {
 public:
  explicit NpuNetlist(sc_core::sc_module_name name);

  // Called when layer `layer`'s last result is ready (time relative to the run).
  using LayerDone = std::function<void(std::size_t layer, std::int64_t time_ps)>;

  // Runs layers [0, layer_count) to completion. Throws std::runtime_error
  // naming the layer and buffer when a step needs more than a buffer holds,
  // and naming the waiting processes when the model stops making progress.
  // `memory` takes every DMA request (the DMA engine bound to a TLM-2.0
  // memory, or any MemoryPort); requests come in non-decreasing time.
  std::vector<LayerTiming> run(const NpuParams& params, MemoryPort& memory, std::size_t layer_count,
                               const ProgramSource& source, TraceRecorder* trace = nullptr,
                               const LayerDone& on_layer_done = {});

 private:
  struct StepState {
    std::int64_t ready_ps = 0;                   // all loads issued so far have arrived by then
    int loads_pending = 0;                       // loads not issued yet
    BufferKind late_buffer = BufferKind::ifmap;  // the buffer of the load that arrived last
    std::int64_t start_ps = -1;                  // the unit started the step
    std::int64_t done_ps = -1;                   // the unit finished the step (-1: not yet)
    std::int64_t writeback_entry = -1;
    std::int64_t stores_pending = 0;  // stores not completed yet
    std::int64_t stores_end_ps = 0;   // the latest completion of its stores so far
  };
  struct LiveLayer {
    LayerProgram program;
    std::vector<StepState> steps;
  };
  struct WaitInterval {
    std::int64_t from_ps, to_ps;
    StallCause cause;
  };
  // Output stores of a layer by footprint (accel/npu/npu_program.h): stores
  // with equal footprints (column blocks of the same rows) share an entry.
  struct OutputRange {
    std::uint64_t end = 0;
    std::int64_t pending = 0;    // stores of the range not completed yet
    std::int64_t latest_ps = 0;  // the latest completion so far
  };
  struct LayerState {
    std::string name;
    std::map<std::uint64_t, OutputRange> outputs;  // by footprint begin
    std::uint64_t longest_output = 0;              // the longest footprint in `outputs`
    std::int64_t results_ps = -1;                  // last result in the buffer
    std::int64_t stores_total = 0, stores_done = 0;
    std::int64_t stores_end_ps = 0;   // latest write-back completion so far
    std::vector<WaitInterval> waits;  // the unit's waits while on this layer
    LayerTiming timing;
    bool stores_complete() const { return results_ps >= 0 && stores_done == stores_total; }
  };
  struct WritebackEntry {
    std::int64_t bytes = 0;
    std::int64_t outstanding = -1;  // stores not yet completed (-1: not handed to the store queue yet)
    std::int64_t latest_ps = 0;     // the latest completion of its stores so far
    std::int64_t free_ps = -1;      // all its stores completed by then (-1: not known yet)
  };
  struct StoreJob {
    std::size_t layer, step;
    std::int64_t entry;
    Transfer transfer;
    std::int64_t ready_ps;
  };

  // Threads.
  void load_thread() {
    thread_body([this] { load_queues(); });
  }
  void array_thread() {
    thread_body([this] { array_process(); });
  }
  void ppu_thread() {
    thread_body([this] { ppu_process(); });
  }
  void store_thread() {
    thread_body([this] { store_queue(); });
  }
  void thread_body(const std::function<void()>& body);

  // The DMA's load side: one queue per buffer, each in program order; of the
  // queue heads that may go now, the oldest in program order issues first.
  struct LoadCursor {
    std::size_t layer = 0, step = 0, index = 0;  // the next transfer to look at
    bool found = false;                          // layer/step/index is this buffer's next load
  };
  void load_queues();
  bool find_next_load(BufferKind buffer, LoadCursor& cursor);
  // When the head of `buffer`'s queue may issue: now, a later time, or -1 (blocked on an event).
  std::int64_t load_ready_ps(BufferKind buffer, const LoadCursor& cursor);
  // When the output stores of `producer` overlapping `range` will have
  // completed; -1 while one of them has not been issued.
  std::int64_t outputs_written_ps(std::size_t producer, const ByteRange& range) const;
  void record_output_store(std::size_t layer, const Transfer& t, std::int64_t end_ps);
  void array_process();
  void ppu_process();
  void store_queue();

  // Shared steps of the array and the PPU.
  std::int64_t wait_for_inputs(std::size_t layer, const char* who);
  std::int64_t run_step(std::size_t layer, std::size_t step, std::int64_t unit_free_ps, std::int64_t earliest_ps,
                        const char* who);
  void hand_to_store_queue(std::size_t layer, std::size_t step, std::int64_t ready_ps);
  std::int64_t reserve_writeback(std::int64_t bytes, const char* who);
  void results_ready(std::size_t layer, std::int64_t time_ps);

  // Program window.
  LiveLayer& live(std::size_t layer);
  void release_finished_layers();

  // Time: absolute kernel picoseconds; clock edges counted from the run's origin.
  std::int64_t now_ps() const;
  std::int64_t edge_at_or_after(std::int64_t ps) const;
  std::int64_t after_cycles(std::int64_t edge_ps, std::int64_t cycles) const;
  std::int64_t cycle_of(std::int64_t edge_ps) const;
  void wait_until(std::int64_t ps);
  void wait_on(sc_core::sc_event& event, const char* who, const char* what);
  void record_transfer(std::size_t layer, const Transfer& t, std::int64_t start_ps, std::int64_t end_ps);
  void finish_timings(std::size_t layer_count);

  MemoryPort* memory_ = nullptr;
  sc_core::sc_event start_, loads_issued_, step_done_, results_, writeback_freed_, stores_queued_, stores_done_;

  // Per run.
  NpuParams params_;
  double ps_per_cycle_ = 1000.0;
  std::size_t layer_count_ = 0;
  ProgramSource source_;
  TraceRecorder* trace_ = nullptr;
  LayerDone on_layer_done_;
  std::int64_t origin_ps_ = 0;
  std::deque<LiveLayer> live_;
  std::size_t first_live_ = 0;
  std::vector<LayerState> layers_;
  std::int64_t in_buffer_[kBufferKinds] = {0, 0, 0};
  std::size_t load_cursor_[kBufferKinds] = {0, 0, 0};    // the layer each load queue is at
  static constexpr std::size_t kDmaLookaheadLayers = 2;  // how far ahead of the compute units the DMA reads the program
  std::size_t array_cursor_ = 0, ppu_cursor_ = 0;
  bool ppu_finished_ = false;
  std::deque<WritebackEntry> writeback_;
  std::int64_t writeback_base_ = 0;        // id of writeback_.front()
  std::int64_t writeback_held_bytes_ = 0;  // bytes of the entries in writeback_
  std::deque<StoreJob> store_jobs_;
  std::uint64_t generation_ = 0;  // runs started
  int threads_running_ = 0;
  int timed_waits_ = 0;
  std::uint64_t progress_ = 0;
  std::map<std::string, std::string> waiting_;  // thread -> what it waits on, while it waits on an event
  std::exception_ptr error_;
  bool broken_ = false;  // an error left processes mid-program: no further run
};

// The process's netlist, built on first use (before the kernel first runs:
// call it during elaboration, e.g. when the memory system is set up).
NpuNetlist& process_netlist();

}  // namespace npusim
