// The report of one `npusim run`: an aligned human table and a versioned JSON
// document ("schema": "npusim.run/1"). Both are deterministic: no timestamps,
// no host names, floats at fixed precision.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "models/graph.h"
#include "models/quant/quant_metrics.h"
#include "sim/config/accelerator_config.h"
#include "sim/run/network_runner.h"
#include "sim/run/reference_check.h"

namespace npusim {

inline constexpr const char* kRunReportSchema = "npusim.run/1";

struct RunTotals {
  std::int64_t cycles = 0;
  std::int64_t array_cycles = 0;
  std::int64_t ppu_cycles = 0;
  std::int64_t macs = 0;
  std::int64_t overflow_outputs = 0;
  double latency_us = 0.0;            // cycles / clock_mhz
  double effective_gmac_per_s = 0.0;  // macs / latency
  // macs / (cycles * rows * cols * lanes) over the whole run: the array idles
  // while the PPU works, and that counts against it.
  double utilization = 0.0;
  std::int64_t layers_checked = 0;
  std::int64_t layers_mismatched = 0;
};

// What a report describes. References must outlive the report calls.
struct RunReport {
  const AcceleratorConfig& config;
  const Graph& graph;
  const NetworkRun& run;
  const std::vector<LayerCheck>& checks;     // parallel to run.layers
  const QuantMetrics* metrics = nullptr;     // accuracy against the fp32 golden run, when measured
  const struct RunEnergy* energy = nullptr;  // energy, power and area, when estimated
  // Values::off (--values off): nothing was computed or checked. `checks` is
  // empty and `metrics` null; the reports say so: the text and HTML print
  // "-" for overflows, SQNR and check, and the JSON has "values": "off" with
  // the value-dependent fields null (docs/cli.md#values-off-timing-only).
  Values values = Values::on;
  // Check::none (--check none, or values off): the values and SQNR are there,
  // but nothing was checked; `checks` is empty.
  Check check = Check::full;
  bool checked() const { return values == Values::on && check == Check::full; }
};

RunTotals summarize(const RunReport& report);

// The table, totals and, for failed checks, what differs.
void write_table(std::ostream& out, const RunReport& report);

// "values" is "on" or "off", "check" "full" or "none" (always none with
// values off). Unchecked, null: "reference_check", each layer's "check", the
// totals' "layers_checked", "layers_mismatched" and "bit_exact". With values
// off also null: each layer's "overflow_outputs" and "quantization", the
// totals' "overflow_outputs" and "network_sqnr_db". Every other field is what
// the values run writes.
nlohmann::ordered_json to_json(const RunReport& report);

// "on" or "off".
const char* to_string(Values values);

// The JSON report, pretty-printed, written atomically (sim/report/atomic_file.h).
void write_json_report(const std::string& path, const RunReport& report);

}  // namespace npusim
