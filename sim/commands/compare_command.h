// `npusim compare`: one network on several designs (configs, or one config at
// several formats), side by side, with ratios against the first column. The
// question the tool exists to answer: what a bitwidth, an array size or a
// buffer size costs in energy, DRAM traffic, latency, area and accuracy.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "models/model_loader.h"
#include "models/quant/quantize.h"
#include "sim/run/network_runner.h"

namespace npusim {

struct CompareOptions {
  std::vector<std::string> config_paths;   // at least one
  std::string model_path;                  // .json, .onnx or .csv (models/model_loader.h)
  ModelLoadOptions model_load;             // --input-shape
  QuantizationOptions quantization;        // npusim's calibration, for every design
  std::vector<std::string> set_overrides;  // applied to every design
  // When given: the first config at each of these formats (weight = activation).
  std::vector<std::string> formats;
  // When given: each design's square array is sized to the largest that fits this area.
  std::optional<double> iso_area_mm2;
  std::optional<std::string> json_path;
  std::optional<std::string> csv_path;   // one row per design, one column per metric
  std::optional<std::string> html_path;  // self-contained HTML: the table and bar charts
  bool show_progress = false;
  std::uint64_t max_memory_mb = 0;  // refuse a design estimated above this (0: half the physical memory)
  // `--values off`: every design timed only (no values, no check, no SQNR;
  // network_sqnr_db and bit_exact are null in the JSON, empty in the CSV).
  Values values = Values::on;
};

// Returns 0, or 3 when a design's outputs differ from the reference executor.
int compare_command(const CompareOptions& options, std::ostream& out, std::ostream& progress);

}  // namespace npusim
