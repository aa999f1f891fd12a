// The process's one accelerator: SystemC builds no module once the kernel has
// run, so every module a run or a benchmark needs is built together on first
// use and reconfigured for each run (DramTarget::reset, DmaEngine::configure,
// NpuNetlist::run). The DMA and the memory traffic generator are both bound
// to the one DRAM target.
#pragma once

#include "accel/memory/dma_engine.h"
#include "accel/memory/dram_target.h"
#include "accel/memory/dram_traffic_initiator.h"
#include "accel/npu/npu_netlist.h"

namespace npusim {

struct ProcessHardware {
  DramTarget dram;
  DmaEngine dma;
  DramTrafficInitiator traffic;
  NpuNetlist& netlist;
  ProcessHardware();
};

// Call before the kernel first runs (e.g. when the memory system is set up).
ProcessHardware& process_hardware();

}  // namespace npusim
