// One resource estimate before any work (issue 14): the peak memory a run will
// take and the work it will do, from the network's structure (before its
// parameters are drawn), the config and the options. A run that would not fit
// is refused in one line naming what asks for the memory, instead of a
// bad_alloc or the OOM killer minutes later.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/graph.h"
#include "models/quant/quantize.h"
#include "sim/config/accelerator_config.h"

namespace npusim {

struct ResourceOptions {
  QuantizationOptions quantization;
  bool tracing = false;
  std::int64_t trace_flush_events = 0;
  std::uint64_t max_memory_bytes = 0;  // 0: default_max_memory_bytes()
};

struct ResourceItem {
  std::string what;  // "layer \"conv3\" (activations)", "--calibration-samples 1000000000"
  double bytes = 0;
};

struct ResourceEstimate {
  double peak_bytes = 0;
  ResourceItem largest;  // the single item that asks for the most
  double macs = 0;       // multiply-accumulates the run performs, calibration included
};

// Half the machine's physical memory (sysconf), the default of --max-memory-mb.
std::uint64_t default_max_memory_bytes();

// Doubles throughout: a hostile network's sizes overflow int64 products.
ResourceEstimate estimate_resources(const AcceleratorConfig& config, const std::vector<const Graph*>& graphs,
                                    const ResourceOptions& options);

// Throws InputError("resource estimate: the run needs about <x> GB of memory,
// over the <y> MB of --max-memory-mb (<default>); the most is <largest>: ...")
// when the estimate exceeds the limit.
void check_resources(const AcceleratorConfig& config, const std::vector<const Graph*>& graphs,
                     const ResourceOptions& options);

}  // namespace npusim
