// Writes a trace as a VCD file for GTKWave through SystemC's own tracing: a
// replay module drives one sc_signal per waveform of traces/vcd_plan.h from an
// SC_THREAD that walks the value changes in time order and waits between
// them, and sc_create_vcd_trace_file / sc_trace record the signals (timescale
// 1 ps, so event times are exact).
//
// Why the replay runs in a child process with a kernel of its own:
//  - SystemC elaborates one design per process. Once the simulator has called
//    sc_start (pe fidelity does, and so does any TLM memory run), no module or
//    signal can be created any more: SystemC 2.3.4 stops it with
//    "(E529) insert module failed: simulation running" (also while paused).
//  - Even a replay without new modules (sc_spawn plus traced plain variables)
//    could not be honest in that process: simulated time never goes back, so
//    every VCD timestamp would be shifted by the time the simulator's kernel
//    had reached, and its clocks would keep ticking through the replay.
//  - Before the simulation the events do not exist yet.
// So write_vcd_trace() forks; the child installs a fresh sc_simcontext (the
// sc_curr_simcontext / sc_default_global_context pointers that
// sysc/kernel/sc_simcontext.h exports; this is implementation-specific, not
// IEEE 1666, and relied on the way accellera-official/systemc issue #8
// describes), elaborates the replay, runs it and exits with _exit. The
// parent's kernel is never touched, whatever state it is in, so the function
// may be called any number of times, before or after the simulator ran.
// Constraints: call it from a single-threaded point of the program (fork);
// the child's SystemC infos are silenced and any SystemC warning or error
// becomes this function's error.
//
// SystemC stamps the file with the wall-clock date; that one line is replaced
// by a fixed text so the same events give the same bytes. SystemC 2.3.4 writes
// a time step's values only once time moves past it, so the replay runs to
// plan.end_ps + 1 ps: the file's last timestamp is that instant.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "traces/trace_events.h"
#include "traces/vcd_plan.h"
#include "traces/vcd_replay_module.h"

namespace npusim {

struct VcdOptions {
  std::int64_t bandwidth_window_ps = 1'000'000;  // bandwidth counters average over windows of this length
};

// Writes `path` (through `<path>.tmp` and a rename; SystemC's own output goes to
// `<path>.sc.vcd` first and is removed), and a GTKWave save file beside it
// (traces/gtkwave_save.h: trace.vcd -> trace.gtkw). A truncated trace carries
// truncation_message() in a $comment at the top. Throws std::runtime_error
// naming the path when the file cannot be written or the replay fails, and
// std::invalid_argument for invalid events.
void write_vcd_trace(const TraceEvents& events, const std::string& path, const VcdOptions& options = {});

// The same from the signals and their changes, for a writer that does not
// hold them in memory: `open_changes` is called in the replay process and
// returns the changes in (time, signal) order; `end_ps` is the plan's end
// (VcdPlan::end_ps) and `comment` the truncation message or "".
void write_vcd_trace(const std::vector<VcdSignal>& signals, const std::function<VcdChangeSource()>& open_changes,
                     std::int64_t end_ps, const std::string& comment, const std::string& path);

}  // namespace npusim
