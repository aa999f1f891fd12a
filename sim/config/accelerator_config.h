// The accelerator a run simulates, loaded from a versioned JSON preset
// (configs/*.json) or a SCALE-Sim .cfg, plus command-line `--set key=value`
// overrides.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "accel/array/array_config.h"
#include "sim/config/memory_config.h"

namespace npusim {

// The post-processing unit runs the layers that do not use the MAC array.
struct PpuConfig {
  int elements_per_cycle = 16;  // output elements (per input tensor) it handles each cycle
};

// $.energy: which technology table prices the run's actions.
struct EnergyConfig {
  std::string technology = "45nm";        // "45nm", "7nm", a node in between, or a table path
  double idle_pe_dynamic_fraction = 0.0;  // idle PEs are clock gated: share of dynamic energy they still burn
  std::string ideal_dram_type = "ddr4";   // energy type charged for the `ideal` memory
  std::string config_file;                // where the config came from (resolves relative table paths)
};

struct AcceleratorConfig {
  std::string name;
  std::string description;  // free text: for presets, the public numbers they are built from
  double clock_mhz = 1000.0;
  ArrayConfig array;
  Fidelity fidelity = Fidelity::tile;
  PpuConfig ppu;
  MemoryConfig memory;  // modeled only when the config has a memory section
  EnergyConfig energy;
};

// The document a config file holds: a JSON preset as it is, a SCALE-Sim .cfg
// (by its extension) translated to the preset schema (sim/config/scalesim_cfg.h).
nlohmann::json read_config_document(const std::string& path);

// Reads `path` (JSON, or a SCALE-Sim .cfg), applies `set_overrides` ("array.rows=64", "formats.weight=int4")
// to the JSON document, then validates. Every error is an InputError naming the
// file and the JSON path; an error on a path an override touched also names the
// override ("--set array.rowz=64: ...").
AcceleratorConfig load_accelerator_config(const std::string& path, const std::vector<std::string>& set_overrides);

// The same, from an already parsed document; `file` only names it in messages.
AcceleratorConfig parse_accelerator_config(nlohmann::json document, const std::string& file,
                                           const std::vector<std::string>& set_overrides);

// The config as a JSON document in the preset schema, every field explicit, keys
// in the presets' order.
nlohmann::ordered_json to_json(const AcceleratorConfig& config);

}  // namespace npusim
