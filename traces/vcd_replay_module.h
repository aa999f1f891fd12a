// The SystemC side of the VCD writer: one sc_signal per waveform, driven by a
// thread that applies value changes at their times, pulled one at a time from
// a source (a VcdPlan's vector, or a file a streaming run spilled), so the
// replay holds no more than the signals. Elaborate it only in a kernel that
// has not started (see traces/vcd_writer.h for where that is).
#pragma once

#include <functional>
#include <memory>
#include <systemc>
#include <vector>

#include "traces/vcd_plan.h"

namespace npusim {

// Sets `change` to the next value change, in (time, signal) order; false
// when there are no more.
using VcdChangeSource = std::function<bool(VcdChange& change)>;

class VcdReplayModule : public sc_core::sc_module {
 public:
  VcdReplayModule(sc_core::sc_module_name name, std::vector<VcdSignal> signals, VcdChangeSource changes);

  // Registers every signal with `file` under its name, in order.
  void trace(sc_core::sc_trace_file* file) const override;

 private:
  void replay();

  std::vector<VcdSignal> signals_;
  VcdChangeSource changes_;
  // Per signal: a flag (width 1) or a counter; the other pointer is null.
  std::vector<std::unique_ptr<sc_core::sc_signal<bool>>> flags_;
  std::vector<std::unique_ptr<sc_core::sc_signal<sc_dt::int64>>> counters_;
};

}  // namespace npusim
