// Reads a SCALE-Sim (v2) .cfg file as an npusim accelerator config, so that
// `npusim run --config scale.cfg --model topo.csv` runs a SCALE-Sim setup as
// it stands (scalesim/scale_config.py of scalesim-project/scale-sim-v2).
//
// The file is read with Python configparser's rules, which SCALE-Sim uses:
// "[section]" headers (case-sensitive), "key = value" or "key: value" (keys
// case-insensitive), whole-line comments starting with '#' or ';', indented
// continuation lines, and each section and key at most once. The result is a
// document in the preset schema (docs/config.md), validated like any preset:
//
//   [architecture_presets] ArrayHeight, ArrayWidth -> array.rows, array.cols
//                          Dataflow (os, ws, is)   -> array.dataflow
//   always                                         -> array.timing = scalesim,
//                          formats int8 x int8 (SCALE-Sim's words are 1 byte),
//                          clock_mhz = 1000 (SCALE-Sim counts cycles; at 1 GHz
//                          a cycle is a nanosecond)
//   [run_presets] InterfaceBandwidth = USER: memory.sram.{ifmap,weight,ofmap}.kb
//                          from IfmapSramSzkB, FilterSramSzkB, OfmapSramSzkB
//                          (KB of 1-byte words, ports wide enough for the
//                          array's edge) and an ideal DRAM of Bandwidth words
//                          (bytes) per cycle, no latency
//   InterfaceBandwidth = CALC: no memory section. SCALE-Sim's CALC mode
//                          reports the bandwidth that never stalls the array,
//                          so its cycles are the array's alone, and so are
//                          npusim's without a memory section.
//   [general] run_name                             -> name
//
// Keys SCALE-Sim reads or its shipped configs carry but that do not change
// what npusim computes are accepted and ignored: the DRAM address offsets of
// SCALE-Sim's traces, TopologyCsvLoc (npusim takes --model), Ramulator request
// buffers, SRAM bank layouts that are off. Settings npusim does not model are
// refused: sparsity on, a custom SRAM layout, Ramulator traces, a time linear
// model, more than one DRAM bank. Any other section or key, a bad value or a
// missing required key is a one-line InputError "<file>:<line>: ...".
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace npusim {

// Where a field of the translated document came from: "<file>:<line>: <Key>".
struct ConfigOrigin {
  std::string json_path;  // "$.array.rows"
  std::string where;
};

struct TranslatedConfig {
  nlohmann::json document;  // the preset schema
  std::vector<ConfigOrigin> origins;
};

// Whether `path` names a SCALE-Sim config (ends in ".cfg", any case).
bool is_scalesim_cfg_path(const std::string& path);

TranslatedConfig read_scalesim_cfg(const std::string& path);

// A preset reader's message about a translated field ("<file>: $.array.rows:
// expected ...") restated at the .cfg line that set it ("<file>:6: ArrayHeight:
// expected ..."); any other message unchanged.
std::string locate_in_cfg(const std::string& message, const std::string& file,
                          const std::vector<ConfigOrigin>& origins);

}  // namespace npusim
