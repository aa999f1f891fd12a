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

// The default of --max-sim-minutes: an hour of expected wall time (vgg16 at
// tile fidelity takes 80 s here; a longer run is asked for with the option).
inline constexpr double kDefaultMaxSimSeconds = 3600.0;

struct ResourceOptions {
  QuantizationOptions quantization;
  bool tracing = false;
  std::int64_t trace_flush_events = 0;
  std::uint64_t max_memory_bytes = 0;          // 0: default_max_memory_bytes()
  double max_seconds = kDefaultMaxSimSeconds;  // refuse a run expected to take longer
};

struct ResourceItem {
  std::string what;  // "layer \"conv3\" (activations)", "--calibration-samples 1000000000"
  double bytes = 0;
};

struct ResourceEstimate {
  double peak_bytes = 0;
  ResourceItem largest;   // the single item that asks for the most
  double macs = 0;        // multiply-accumulates of one inference
  double pe_updates = 0;  // pe fidelity: PE evaluations (folds x cycles per fold x PEs)
  double seconds = 0;     // expected wall time of the run
  std::string slowest;    // what the time goes to
};

// Half the machine's physical memory (sysconf), the default of --max-memory-mb.
std::uint64_t default_max_memory_bytes();

// Doubles throughout: a hostile network's sizes overflow int64 products.
ResourceEstimate estimate_resources(const AcceleratorConfig& config, const std::vector<const Graph*>& graphs,
                                    const ResourceOptions& options);

// Throws InputError("resource estimate: the run needs about <x> GB of memory,
// over the <y> MB of --max-memory-mb (<default>); the most is <largest> at ..")
// when the estimate exceeds the limit, and likewise for the expected time
// against --max-sim-minutes.
void check_resources(const AcceleratorConfig& config, const std::vector<const Graph*>& graphs,
                     const ResourceOptions& options);

}  // namespace npusim
