// What a finished (or merged) sweep leaves for people to look at, all from the
// results store and the expanded spec, deterministic bytes:
//   merged.jsonl   one line per point with a result, by point index, with "pareto"
//                  and "below_min_sqnr" (the spec's SQNR floor, a result filter)
//   results.csv    the same, one row per point, units in the column names
//   pareto.json    the front of each network over the spec's objectives
//   dropped.jsonl  the points the constraints dropped, with the reason
//   energy_vs_latency_<net>.svg, energy_vs_array_<net>.svg, latency_vs_array_<net>.svg
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "sim/sweep/sweep_spec.h"
#include "sim/sweep/sweep_store.h"

namespace npusim {

struct SweepTally {
  std::size_t ok = 0, failed = 0, timeout = 0;
  std::size_t missing = 0;  // points of the plan with no result in the store
  std::size_t pareto = 0;
  std::size_t below_min_sqnr = 0;  // ok points under the spec's min_sqnr_db
  std::size_t stale = 0;           // results whose key no point of the current spec has
};

struct SweepOutputs {
  SweepTally tally;
  std::vector<std::string> files;  // written, in order
};

SweepOutputs write_sweep_outputs(const SweepSpec& spec, const SweepPlan& plan, const StoredResults& results,
                                 const std::filesystem::path& dir);

// The Pareto flag of each plan point (false for points without an ok result):
// per network, over spec.objectives (maximised ones negated). A null
// network_sqnr_db means an infinite SQNR; any other null objective keeps the
// point off the front; so does an SQNR below the spec's min_sqnr_db.
std::vector<bool> sweep_pareto_flags(const SweepSpec& spec, const SweepPlan& plan, const StoredResults& results);

// One CSV field: quoted when it holds a comma, quote or newline.
std::string csv_field(const std::string& text);

}  // namespace npusim
