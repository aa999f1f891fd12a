// Parameters of the modeled MAC array. One struct, passed by const& to every
// block that needs it; built and validated by sim/config from JSON.
#pragma once

#include <optional>
#include <string_view>

#include "accel/formats/number_format.h"

namespace npusim {

// Which operand stays in the PEs while the others stream through.
enum class Dataflow { ws, os, is };

// How consecutive folds of a GEMM share the array in time.
//  - overlapped: the next fold's stationary operands load into shadow registers
//    while the current fold streams, and the next stream follows the current one
//    with no bubble (what a double-buffered systolic array does).
//  - scalesim: folds run back to back with fill and drain each time, the
//    analytical model of SCALE-Sim v2: per fold R+C+T-2 (OS) or 2R+C+T-2
//    (WS, IS) cycles, total folds*per_fold - 1.
enum class TimingConvention { overlapped, scalesim };

// pe: every PE register stepped every clock in SystemC. tile: the same timing
// in closed form and the same values from a fast kernel.
enum class Fidelity { tile, pe };

std::optional<Dataflow> parse_dataflow(std::string_view name);
std::optional<TimingConvention> parse_timing_convention(std::string_view name);
std::optional<Fidelity> parse_fidelity(std::string_view name);
std::string_view to_string(Dataflow dataflow);
std::string_view to_string(TimingConvention timing);
std::string_view to_string(Fidelity fidelity);

struct ArrayConfig {
  int rows = 32;  // R: PEs per column
  int cols = 32;  // C: PEs per row
  Dataflow dataflow = Dataflow::ws;
  TimingConvention timing = TimingConvention::overlapped;
  MacFormat mac;
};

}  // namespace npusim
