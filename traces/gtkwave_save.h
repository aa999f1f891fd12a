// A GTKWave save file beside a trace's VCD, so `gtkwave trace.gtkw` opens the
// whole run at once instead of an empty window at 3 ps: every signal added,
// flags as bits, the 64-bit bandwidth counters (MB/s) as decimal values drawn
// as analog steps, zoomed to fit from 0 to the end of the trace.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "traces/vcd_plan.h"

namespace npusim {

// The save file's text. `vcd_file_name` is written as the dump file, relative
// (GTKWave also looks for it beside the save file), so the pair can be moved
// together; `end_ps` the VCD's last timestamp (timescale 1 ps).
std::string gtkwave_save_text(const std::vector<VcdSignal>& signals, std::int64_t end_ps,
                              const std::string& vcd_file_name);

// "dir/trace.vcd" -> "dir/trace.gtkw"
std::string gtkwave_save_path(const std::string& vcd_path);

}  // namespace npusim
