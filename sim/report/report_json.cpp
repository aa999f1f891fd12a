#include <cmath>

#include "sim/report/atomic_file.h"
#include "sim/report/report.h"
#include "sim/report/report_energy.h"
#include "sim/report/report_memory.h"
#include "sim/report/text_table.h"

namespace npusim {
namespace {

constexpr int kLatencyDecimals = 6;  // 1 ps in us
constexpr int kPercentDecimals = 4;
constexpr int kRateDecimals = 6;

// dB, or null when infinite (an output identical to fp32's): JSON has no inf.
nlohmann::ordered_json db_json(double db) {
  return std::isfinite(db) ? nlohmann::ordered_json(rounded(db, 4)) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json histogram_json(const Histogram& h) { return {{"lo", h.lo}, {"hi", h.hi}, {"counts", h.counts}}; }

nlohmann::ordered_json quantization_json(const LayerQuantMetrics& m) {
  nlohmann::ordered_json json;
  if (m.has_weights) {
    json["weight_min"] = m.weight_min;
    json["weight_max"] = m.weight_max;
    json["weight_histogram"] = histogram_json(m.weight_histogram);
  }
  json["activation_min"] = m.act_min;
  json["activation_max"] = m.act_max;
  json["activation_histogram"] = histogram_json(m.act_histogram);
  json["sqnr_db"] = db_json(m.sqnr_db);
  return json;
}

// `check` null: nothing checked; `values` false: values off.
nlohmann::ordered_json layer_json(const LayerRecord& layer, const LayerCheck* check, bool values, double clock_mhz) {
  const bool on_array = layer.unit == ExecutionUnit::array;
  nlohmann::ordered_json json;
  json["name"] = layer.name;
  json["type"] = std::string(to_string(layer.type));
  json["unit"] = std::string(to_string(layer.unit));
  json["format"] = layer.format;
  if (on_array) {
    json["gemm"] = {{"m", layer.gemm.m}, {"n", layer.gemm.n}, {"k", layer.gemm.k}, {"count", layer.gemm_count}};
  } else {
    json["gemm"] = nullptr;
  }
  json["output_dims"] = layer.output.dims;
  json["macs"] = layer.macs;
  json["cycles"] = layer.cycles;
  json["latency_us"] = rounded(static_cast<double>(layer.cycles) / clock_mhz, kLatencyDecimals);
  json["folds"] = layer.folds;
  json["utilization_pct"] = on_array ? nlohmann::ordered_json(rounded(100.0 * layer.utilization, kPercentDecimals))
                                     : nlohmann::ordered_json(nullptr);
  json["mapping_efficiency_pct"] =
      on_array ? nlohmann::ordered_json(rounded(100.0 * layer.mapping_efficiency, kPercentDecimals))
               : nlohmann::ordered_json(nullptr);
  json["overflow_outputs"] = values ? nlohmann::ordered_json(layer.overflow_outputs) : nlohmann::ordered_json(nullptr);
  if (layer.memory) json["memory"] = memory_json(*layer.memory);
  json["check"] = check ? nlohmann::ordered_json{{"bit_exact", check->bit_exact}, {"detail", check->detail}}
                        : nlohmann::ordered_json(nullptr);
  return json;
}

}  // namespace

const char* to_string(Values values) { return values == Values::on ? "on" : "off"; }

nlohmann::ordered_json to_json(const RunReport& report) {
  const bool values = report.values == Values::on;
  const nlohmann::ordered_json null(nullptr);
  nlohmann::ordered_json json;
  json["schema"] = kRunReportSchema;
  json["values"] = to_string(report.values);
  json["check"] = to_string(report.checked() ? Check::full : Check::none);
  json["config"] = to_json(report.config);
  json["model"] = {{"name", report.graph.name}, {"input_dims", report.graph.input_dims}, {"seed", report.graph.seed}};
  // The accumulation order the reference reproduced: chunks of this many K
  // elements (0: one chunk over the whole K, the OS order).
  json["reference_check"] =
      report.checked()
          ? nlohmann::ordered_json{{"reduction_chunk_elements", reference_reduction_chunk(report.config.array)}}
          : null;

  auto layers = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < report.run.layers.size(); ++i) {
    layers.push_back(layer_json(report.run.layers[i], report.checked() ? &report.checks.at(i) : nullptr, values,
                                report.config.clock_mhz));
    if (report.metrics) layers.back()["quantization"] = quantization_json(report.metrics->layers.at(i));
    if (!values) layers.back()["quantization"] = null;
    if (report.energy) layers.back()["energy"] = energy_json(report.energy->layers.at(i));
  }
  json["layers"] = std::move(layers);

  const RunTotals totals = summarize(report);
  json["totals"] = {
      {"cycles", totals.cycles},
      {"array_cycles", totals.array_cycles},
      {"ppu_cycles", totals.ppu_cycles},
      {"latency_us", rounded(totals.latency_us, kLatencyDecimals)},
      {"macs", totals.macs},
      {"effective_gmac_per_s", rounded(totals.effective_gmac_per_s, kRateDecimals)},
      {"utilization_pct", rounded(100.0 * totals.utilization, kPercentDecimals)},
      {"overflow_outputs", totals.overflow_outputs},
      {"layers_checked", totals.layers_checked},
      {"layers_mismatched", totals.layers_mismatched},
      {"bit_exact", totals.layers_mismatched == 0},
  };
  if (!report.checked()) {
    for (const char* key : {"layers_checked", "layers_mismatched", "bit_exact"}) json["totals"][key] = null;
  }
  if (!values) json["totals"]["overflow_outputs"] = null;
  if (report.config.memory.modeled) json["totals"]["memory"] = memory_totals_json(report);
  if (report.metrics) json["totals"]["network_sqnr_db"] = db_json(report.metrics->network_sqnr_db);
  if (!values) json["totals"]["network_sqnr_db"] = null;
  if (report.energy) json["totals"]["energy"] = energy_totals_json(*report.energy);
  return json;
}

void write_json_report(const std::string& path, const RunReport& report) {
  write_file_atomically(path, to_json(report).dump(2) + "\n");
}

}  // namespace npusim
