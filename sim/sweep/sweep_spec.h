// A design-space sweep file (configs/sweeps/*.json): a base config, the axes it
// varies (a cartesian product, plus zipped groups that vary together), the
// networks, the constraints that drop points before they run and the Pareto
// objectives. expand_sweep() turns it into the ordered list of points, each
// with its resolved config and key.
//
//   {"base": "../presets/edge_npu.json",          (relative to the sweep file)
//    "set": {"array.fidelity": "tile"},            (fixed overrides, optional)
//    "networks": ["../../models/zoo/lenet5.json"],
//    "axes": {"array.rows": [16, 32], "formats": ["fp32", "int8"]},
//    "zip": [{"memory.sram.ifmap.kb": [64, 128], "memory.sram.weight.kb": [64, 128]}],
//    "constraints": {"max_area_mm2": 5.0, "max_sram_kb": 512, "max_pes": 4096, "min_sqnr_db": 20},
//    "objectives": ["energy_per_inference_uj", "latency_us", "area_mm2"],
//    "run_args": ["--calibration", "percentile"],   (more `npusim run` options, optional)
//    "timeout_s": 600}
//
// Axis names are `--set` paths (sim/config/set_override.h); "formats" is the one
// special axis: a format name sets weight and activation to it and the
// accumulator to that pair's default, as `npusim compare --formats` does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sim/config/accelerator_config.h"

namespace npusim {

struct SweepAxis {
  std::string name;  // "array.rows", "formats"
  std::vector<nlohmann::ordered_json> values;
  std::string json_path;  // where it is written: $.axes["array.rows"], $.zip[0]["array.cols"]
};

// One factor of the cartesian product: a plain axis, or zipped axes of equal length.
struct SweepDimension {
  std::vector<SweepAxis> axes;
  std::size_t size() const { return axes.front().values.size(); }
};

struct SweepConstraints {
  std::optional<double> max_area_mm2;   // sim/energy/area_model.h, before running
  std::optional<double> max_sram_kb;    // ifmap + weight + ofmap capacity
  std::optional<std::int64_t> max_pes;  // rows x cols
  // A result filter, not a drop: SQNR is known only after the run, so such a
  // point runs and is recorded, but stays off the Pareto front and the plots'
  // rings, marked below_min_sqnr (an infinite SQNR, null, meets any floor).
  std::optional<double> min_sqnr_db;
};

struct SweepObjective {
  std::string metric;     // one of sweep_metric_names()
  bool maximize = false;  // written "max:network_sqnr_db"
};

struct SweepNetwork {
  std::string as_written;  // in the sweep file: part of the key
  std::string path;        // resolved against the sweep file's directory
  std::string name;        // the network's own name
  std::uint64_t content_hash = 0;
};

struct SweepSpec {
  std::string file;                         // the sweep file as given
  std::string base_config;                  // resolved path
  std::vector<std::string> base_set;        // "key=value" texts
  std::vector<std::string> base_set_paths;  // JSON path of each in the sweep file
  std::vector<SweepNetwork> networks;
  std::vector<SweepDimension> dimensions;
  SweepConstraints constraints;
  std::vector<SweepObjective> objectives;  // default: energy, latency, area
  std::optional<double> timeout_s;
  std::vector<std::string> run_args;  // passed to every point's `npusim run`; part of the key
};

// Reads and validates a sweep file (also loads the base config and every
// network, so a bad path fails here). InputError: "<file>: <JSON path>: ...".
SweepSpec load_sweep_spec(const std::string& path);

struct SweepPoint {
  std::size_t index = 0;               // among the points that run, in expansion order
  std::size_t network = 0;             // into SweepSpec::networks
  nlohmann::ordered_json values;       // {"network": ..., axis name: value, ...}
  std::vector<std::string> overrides;  // --set texts: the spec's "set", then the axes
  AcceleratorConfig config;
  std::string key;
  double area_mm2 = 0;
  double sram_kb = 0;
};

struct DroppedPoint {
  nlohmann::ordered_json values;
  std::string reason;  // "area_mm2 6.2 > max_area_mm2 5"
};

struct SweepPlan {
  std::vector<SweepPoint> points;
  std::vector<DroppedPoint> dropped;
};

// Networks outermost, then the dimensions in file order ("axes" then "zip"),
// the last varying fastest. Every point's config must load (a bad axis value or
// path is an InputError naming the axis); two points with one key are an error.
// The most points one sweep may have (before constraints drop any): each is a
// process; more is a typo or a job for several sweeps.
inline constexpr std::size_t kMaxSweepPoints = 100'000;

SweepPlan expand_sweep(const SweepSpec& spec);

// The --set text of an axis value: numbers and booleans as JSON, strings as
// they are unless they would parse as something else.
std::string set_text(const std::string& path, const nlohmann::ordered_json& value);

}  // namespace npusim
